"""CMIP6 sources of ``--cmip6`` / config ``cmip6`` are listed by ``rhbench plugins`` and ``rhbench data`` (issue 14)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rhbench.cli import main
from tests.test_cmip6 import _write_cmor

NAME = "TOY.r1i1p1f1"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "cmip6"
    out.mkdir()
    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 180.0])
    _write_cmor(out, "rh", np.full((2, 2), 1e-8), lat, lon)
    _write_cmor(out, "sftlf", np.full((2, 2), 50.0), lat, lon, table="fx", units="%")
    return out


def _plugins(capsys, *args: str) -> dict:
    assert main(["plugins", "--json", *args]) == 0
    listed = json.loads(capsys.readouterr().out)
    return {s["name"]: s for s in listed["sources"]}


def test_plugins_lists_the_models_of_a_cmip6_flag(folder, capsys):
    assert NAME not in _plugins(capsys)
    toy = _plugins(capsys, "--cmip6", str(folder))[NAME]
    assert toy["kind"] == "dgvm"
    assert toy["package"] == f"CMIP6 files ({folder.resolve()})"
    assert set(toy["variables"]) == {"rh", "sftlf"}
    assert toy["data"] == "2 files found"


def test_plugins_and_data_list_the_models_of_a_config(folder, tmp_path, capsys):
    config = tmp_path / "run.toml"
    config.write_text(f'data_root = "{tmp_path}"\ncmip6 = ["{folder}"]\n', encoding="utf-8")
    assert NAME in _plugins(capsys, "--config", str(config))
    assert main(["data", "--json", "--no-verify", "--config", str(config)]) == 0
    rows = [r for r in json.loads(capsys.readouterr().out) if r["source"] == NAME]
    assert {r["variable"] for r in rows} == {"rh", "sftlf"}
    rh = next(r for r in rows if r["variable"] == "rh")
    assert rh["present"] is True and rh["found_units"] == "kg m-2 s-1" and rh["fetchable"] is False
    assert Path(rh["path"]).parent == folder.resolve() or Path(rh["path"]).parent == folder
