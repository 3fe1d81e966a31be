"""One bad source never sinks a run; exit codes; the same inputs and seed give the same scorecard.

Runs ``rhbench run`` in-process (:func:`rhbench.cli.main`) on a SYNTHETIC 4-degree demo
data root holding the observation products and three DGVMs, with a TOML config.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import RELIABILITY_MODELS as MODELS

from rhbench.cli import main

CORRUPT_FILE = "trendy_v9/ORCHIDEE/ORCHIDEE_S2_rh.nc"


def write_config(folder: Path, data_root: Path, models: tuple[str, ...], **extra) -> Path:
    """A TOML run config for a fast run (4 degrees, quick upscaling, 10 Monte Carlo draws)."""
    lines = [
        f'data_root = "{data_root}"',
        "resolution = 4",
        "quick_upscaling = true",
        "n_draws = 10",
        "models = [" + ", ".join(f'"{m}"' for m in models) + "]",
    ]
    lines += [f"{key} = {value}" for key, value in extra.items()]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "run.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def demo_with_model_masked(demo_root: Path, folder: Path, model: str = "CLM5.0", max_abs_lat: float = 40) -> Path:
    """A copy of ``demo_root`` under ``folder`` (hard links) whose ``model`` has values only at
    |lat| <= ``max_abs_lat``: a partial model; the shared demo root stays intact."""
    import xarray as xr

    root = folder / "data"
    shutil.copytree(demo_root, root, copy_function=os.link)
    for path in sorted((root / "trendy_v9" / model).glob("*.nc")):
        with xr.open_dataset(path, decode_times=False) as ds:
            masked = ds.where(abs(ds.lat) <= max_abs_lat).load()
        path.unlink()  # break the hard link: the shared demo root stays intact
        masked.to_netcdf(path)
    return root


def scorecard_rows(out: Path) -> list[dict]:
    return json.loads((out / "scorecard.json").read_text())["rows"]


@pytest.fixture(autouse=True)
def _cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "rhbench-cache"))


@pytest.fixture(scope="module")
def healthy_run(demo_root, tmp_path_factory):
    """Exit code and output folder of a run where every source is healthy."""
    work = tmp_path_factory.mktemp("healthy")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RHBENCH_CACHE", str(tmp_path_factory.getbasetemp() / "rhbench-cache"))
        code = main(
            ["-q", "run", "--config", str(write_config(work, demo_root, MODELS[:2])), "--out", str(work / "out")]
        )
    return code, work / "out"


@pytest.fixture(scope="module")
def corrupt_root(demo_root, tmp_path_factory):
    """The demo data root (hard-linked) with ORCHIDEE's rh file replaced by garbage."""
    root = tmp_path_factory.mktemp("corrupt") / "data"
    shutil.copytree(demo_root, root, copy_function=os.link)
    target = root / CORRUPT_FILE
    target.unlink()  # break the hard link before writing: the shared root stays intact
    target.write_bytes(b"CDF\x01" + b"\x00" * 100)
    return root


@pytest.mark.slow
def test_healthy_run_exits_0_with_every_model_scored(healthy_run):
    code, out = healthy_run
    assert code == 0
    rows = scorecard_rows(out)
    assert [r for r in rows if r["status"] == "failed"] == []
    scored = {r["source"] for r in rows if r["metric"] == "rh_global" and r["status"] == "ok"}
    assert {"CLM5.0", "JSBACH"} <= scored
    assert not list(out.parent.glob(".out.partial-*"))


@pytest.mark.slow
def test_one_corrupt_model_fails_alone_and_run_exits_3(corrupt_root, tmp_path):
    code = main(
        ["-q", "run", "--config", str(write_config(tmp_path, corrupt_root, MODELS)), "--out", str(tmp_path / "out")]
    )
    assert code == 3
    rows = scorecard_rows(tmp_path / "out")
    (failed,) = [r for r in rows if r["status"] == "failed"]
    assert (failed["source"], failed["kind"], failed["metric"]) == ("ORCHIDEE", "dgvm", "load")
    assert "source: ORCHIDEE" in failed["reason"]
    assert f"file: {corrupt_root / CORRUPT_FILE}" in failed["reason"]
    assert "variable: rh" in failed["reason"]
    ok = {r["source"] for r in rows if r["metric"] == "rh_global" and r["status"] == "ok"}
    assert {"CLM5.0", "JSBACH", "observations"} <= ok
    assert "ORCHIDEE" not in ok
    run_json = json.loads((tmp_path / "out" / "run.json").read_text())
    assert set(run_json["failures"]) == {"ORCHIDEE"}


@pytest.mark.parametrize(
    "extra, argv_tail",
    [
        ({"colour": '"red"'}, []),  # unknown config key
        ({}, ["--data-root", "/nonexistent/rhbench-data"]),  # no observations at all
    ],
)
def test_unusable_configuration_exits_2_and_writes_nothing(demo_root, tmp_path, extra, argv_tail):
    config = write_config(tmp_path / "cfg", demo_root, MODELS[:1], **extra)
    code = main(["-q", "run", "--config", str(config), "--out", str(tmp_path / "out"), *argv_tail])
    assert code == 2
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_missing_config_file_exits_2(tmp_path):
    assert main(["-q", "run", "--config", str(tmp_path / "absent.toml")]) == 2


@pytest.mark.slow
def test_same_inputs_and_seed_give_identical_scorecard_rows(healthy_run, demo_root, tmp_path):
    code, first = healthy_run
    assert code == 0
    again = main(
        ["-q", "run", "--config", str(write_config(tmp_path, demo_root, MODELS[:2])), "--out", str(tmp_path / "out")]
    )
    assert again == 0
    rows, rows_again = scorecard_rows(first), scorecard_rows(tmp_path / "out")
    assert len(rows) > 100
    assert rows == rows_again  # bit for bit: the RF ensemble averages its trees in a fixed order
