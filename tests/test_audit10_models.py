"""Tenth audit, item 1: ``--models`` / ``models = [...]`` select across the DGVM plugins and the
CMIP6 folders by the names the run reports (docs/trust-cases.md, "Tenth audit (session 8)").

The runs use a reference Rh product (no Random Forest) on the reliability demo (CLM5.0,
JSBACH, ORCHIDEE, SYNTHETIC) and a constructed CMIP6 folder of one model, ``TOY.r1i1p1f1``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rhbench import cmip6
from rhbench.cli import main
from rhbench.config import RunConfig
from rhbench.errors import ConfigError
from rhbench.registry import build_registry
from rhbench.selection import check_models, model_count
from tests.test_cmip6 import SECONDS_PER_YEAR, _write_cmor

TOY = "TOY.r1i1p1f1"
#: Rh against one Rh product (no upscaling), few Monte Carlo draws: a run takes seconds.
FAST = 'reference = "Hashimoto2015"\nproducts = ["Hashimoto2015"]\nresolution = 4\nn_draws = 10\n'


def _toy_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cmip6"
    folder.mkdir()
    lat, lon = np.arange(-85.0, 90.0, 10.0), np.arange(0.0, 360.0, 10.0)
    flux = np.full((lat.size, lon.size), 400.0 / 1000.0 / SECONDS_PER_YEAR)
    _write_cmor(folder, "rh", flux, lat, lon, years=(1982, 2014))
    _write_cmor(folder, "cSoil", np.full((lat.size, lon.size), 12.0), lat, lon, years=(1982, 2014), units="kg m-2")
    return folder


def _run(tmp_path: Path, demo_root: Path, folder: Path, models: str | None, name: str, models_toml: str = ""):
    config = tmp_path / f"{name}.toml"
    config.write_text(FAST + models_toml, encoding="utf-8")
    out = tmp_path / name
    argv = ["-q", "run", "--config", str(config), "--data-root", str(demo_root), "--cmip6", str(folder)]
    code = main([*argv, *(["--models", models] if models else []), "--out", str(out)])
    if not (out / "scorecard.json").is_file():
        return code, None
    rows = json.loads((out / "scorecard.json").read_text(encoding="utf-8"))["rows"]
    return code, {r["source"] for r in rows if r["kind"] == "dgvm"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("models", "expected"),
    [("CLM5.0", {"CLM5.0"}), (TOY, {TOY}), (f"CLM5.0,{TOY}", {"CLM5.0", TOY}), (None, {TOY})],
    ids=["dgvm", "cmip6", "both", "none-given"],
)
def test_models_selects_dgvm_plugins_and_cmip6_models_by_the_names_the_run_reports(
    tmp_path, demo_root, models, expected, capsys
):
    code, sources = _run(tmp_path, demo_root, _toy_folder(tmp_path), models, "out")
    err = " ".join(capsys.readouterr().err.split())  # rich wraps lines
    assert code in (0, 3) and sources == expected
    left_out = f"1 CMIP6 model(s) found but not in models, not benchmarked: {TOY} (name them in --models"
    assert (left_out in err) == (models == "CLM5.0")  # a CMIP6 model left out is said, once


@pytest.mark.slow
def test_the_config_files_models_selects_a_cmip6_model_the_same_way(tmp_path, demo_root):
    code, sources = _run(tmp_path, demo_root, _toy_folder(tmp_path), None, "cfg", f'models = ["{TOY}", "JSBACH"]\n')
    assert code in (0, 3) and sources == {TOY, "JSBACH"}


@pytest.mark.parametrize(
    ("typo", "meant"),
    [("TOY.r1i1p1f", TOY), ("toy.r1i1p1f1", TOY), ("TOY", TOY), ("CLM5", "CLM5.0")],
)
def test_a_misspelt_model_name_exits_2_naming_it_with_a_did_you_mean(tmp_path, demo_root, typo, meant, capsys):
    code, sources = _run(tmp_path, demo_root, _toy_folder(tmp_path), f"JSBACH,{typo}", "typo")
    err = " ".join(capsys.readouterr().err.split())  # rich wraps lines
    assert code == 2 and sources is None and not (tmp_path / "typo").exists()
    assert f"found: [{typo!r}]" in err
    assert f"did you mean {meant!r} for {typo!r}?" in err
    assert "CMIP6 models are named source_id.member" in err


def test_a_cmip6_name_without_cmip6_folders_says_where_cmip6_models_come_from():
    registry = build_registry()
    with pytest.raises(ConfigError) as caught:
        check_models(RunConfig(models=("CanESM5.r1i1p1f1",)), registry)
    text = str(caught.value)
    assert "found: ['CanESM5.r1i1p1f1']" in text
    assert "A CMIP6 model is found only through --cmip6 PATH or cmip6 = [...]" in text


def test_a_source_id_without_its_member_suggests_every_member(tmp_path):
    registry = build_registry()
    folder = _toy_folder(tmp_path)
    lat, lon = np.array([-10.0, 10.0]), np.array([0.0, 180.0])
    other = tmp_path / "member2"
    other.mkdir()
    second = _write_cmor(other, "rh", np.full((2, 2), 1e-8), lat, lon, years=(1982, 2014))
    second.rename(other / second.name.replace("r1i1p1f1", "r2i1p1f1"))
    found = cmip6.register(registry, [folder, other])
    assert [s.name for s in found] == [TOY, "TOY.r2i1p1f1"]
    with pytest.raises(ConfigError) as caught:
        check_models(RunConfig(models=("TOY",), cmip6=(folder, other)), registry, found)
    assert f"did you mean {TOY!r} or 'TOY.r2i1p1f1' for 'TOY'?" in str(caught.value)


def test_the_progress_bar_counts_the_selection_or_says_it_does_not_know_yet(tmp_path):
    registry = build_registry()
    dgvms = len(registry.of_kind("dgvm"))
    assert model_count(RunConfig(), registry) == dgvms
    assert model_count(RunConfig(models=("CLM5.0", TOY), cmip6=(tmp_path,)), registry) == 2
    assert model_count(RunConfig(cmip6=(tmp_path,)), registry) is None  # before: the 17 DGVMs
