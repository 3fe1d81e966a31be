"""``rhbench upscale``: byte-identical products for the same inputs and seed, and a failed
run leaves ``--out`` as it was (issue 12, fifth audit)."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import pytest
import xarray as xr

from rhbench.commands import upscale
from rhbench.errors import DataError
from rhbench.upscaling import rhmap
from rhbench.upscaling.product import MAP_FILES, OUTPUT_FILES
from tests.conftest import shared_data_path
from tests.test_upscaling_product import synthetic_grids, synthetic_srdb

#: The one file that may differ between two runs: the run's wall-clock time and date.
RUN_LOG = "run_log.json"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("inputs")
    grids = synthetic_grids()
    csv, nc = folder / "srdb.csv", folder / "predictors.nc"
    synthetic_srdb(grids, n=120).to_csv(csv, index=False)
    grids.to_netcdf(nc)
    return csv, nc


def _upscale(inputs: tuple[Path, Path], out: Path, *extra: str) -> int:
    csv, nc = inputs
    argv = ["upscale", "--srdb", str(csv), "--predictors", str(nc), "--out", str(out), "--quick", *extra]
    parser = argparse.ArgumentParser()
    upscale.add_parser(parser.add_subparsers())
    return upscale.run(parser.parse_args(argv))


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def test_two_runs_with_the_same_seed_write_byte_identical_files(inputs, tmp_path, monkeypatch):
    """rh_rf.nc differed in its ``history`` time stamp and cv_metrics.json in its seconds."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert _upscale(inputs, tmp_path / "a", "--seed", "5") == 0
    assert _upscale(inputs, tmp_path / "b", "--seed", "5") == 0
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert set(first) == set(OUTPUT_FILES + MAP_FILES) | {upscale.UPSCALE_MARKER}
    differing = sorted(name for name in first if first[name] != second[name])
    assert differing in ([], [RUN_LOG])  # only the run log holds wall-clock time
    log = json.loads((tmp_path / "a" / RUN_LOG).read_text())
    assert log["seconds"] > 0 and log["date_utc"].endswith("Z")
    metrics = json.loads((tmp_path / "a" / "cv_metrics.json").read_text())
    assert not {"seconds", "tuning_seconds", "date_utc"} & set(metrics)
    with xr.open_dataset(tmp_path / "a" / "rh_rf.nc") as product:
        assert product.attrs["history"].startswith("rhbench ") and product.attrs["seed"] == 5


def test_source_date_epoch_dates_the_product_history(inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert _upscale(inputs, tmp_path / "a") == 0
    with xr.open_dataset(tmp_path / "a" / "rh_rf.nc") as product:
        assert product.attrs["history"].startswith("2023-11-14T22:13:20Z rhbench ")


def _fail_after_the_cv(monkeypatch, error: type[BaseException] = DataError) -> None:
    """The map stage (after the CV tables are written) raises ``error``."""

    def broken(*args, **kwargs):
        raise error("map stage failed (test)")

    monkeypatch.setattr(rhmap, "product_dataset", broken)


@pytest.mark.parametrize("error", [DataError, KeyboardInterrupt])
def test_a_failure_after_the_cv_leaves_no_output_folder(inputs, tmp_path, monkeypatch, error):
    """The CV tables (cv report, importance, out-of-fold predictions) were left in --out."""
    _fail_after_the_cv(monkeypatch, error)
    out = tmp_path / "new" / "deeper" / "out"
    if error is KeyboardInterrupt:
        with pytest.raises(KeyboardInterrupt):
            _upscale(inputs, out)
    else:
        assert _upscale(inputs, out) == 2
    assert sorted(tmp_path.iterdir()) == []  # no folder, no staging, no parent made by the run


def test_a_failure_after_the_cv_keeps_the_users_files_and_an_earlier_product(inputs, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert _upscale(inputs, out, "--seed", "1") == 0
    (out / "notes.txt").write_text("my notes")
    before = _digests(out)
    _fail_after_the_cv(monkeypatch)
    assert _upscale(inputs, out, "--seed", "2", "--force") == 2
    assert _digests(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_force_into_a_users_folder_keeps_its_other_files(inputs, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    assert _upscale(inputs, out, "--force") == 0
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "rh_rf.nc").is_file() and (out / upscale.UPSCALE_MARKER).is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # the staging folder is gone


@pytest.mark.slow
@pytest.mark.shared_data
def test_real_files_give_byte_identical_products(tmp_path, monkeypatch):
    """Two quick runs on the real SRDB, predictor stack and land fraction: same bytes."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = shared_data_path()
    shared_data_path("jian2020", "global_Rt_contribution_to_Rs2.nc")
    parser = argparse.ArgumentParser()
    upscale.add_parser(parser.add_subparsers())
    for name in ("a", "b"):
        argv = ["upscale", "--data-root", str(root), "--out", str(tmp_path / name), "--quick", "--seed", "3"]
        assert upscale.run(parser.parse_args(argv)) == 0
    first, second = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert "rh_rf.nc" in first and "totals.csv" in first
    assert sorted(name for name in first if first[name] != second[name]) in ([], [RUN_LOG])
    assert json.loads((tmp_path / "a" / "cv_metrics.json").read_text())["data_label"] == "REAL"


def test_rf_figures_script_says_what_it_wrote_and_where(inputs, tmp_path, capsys):
    """``python docs/rf_figures.py DIR`` printed nothing."""
    import runpy

    assert _upscale(inputs, tmp_path / "product") == 0
    script = runpy.run_path(str(Path(__file__).parents[1] / "docs" / "rf_figures.py"))
    capsys.readouterr()
    written = script["main"]([str(tmp_path / "product"), "--dest", str(tmp_path)])
    said = capsys.readouterr().out
    assert [p.name for p in written] == ["rf_real_map.png", "rf_real_cv_scatter.png"]
    for path in written:
        assert path.stat().st_size > 1000 and str(path) in said
    assert said.startswith("SYNTHETIC figures of") and "R2 " in said


def test_plugins_says_the_rf_product_is_built_not_missing(tmp_path):
    """``rhbench plugins`` showed the RF-Rh product as "missing: rh" on every data root."""
    from rhbench.commands import plugins

    (tmp_path / "srdb").mkdir()
    (tmp_path / "srdb" / "srdb-data.csv").write_text("Record_number\n")
    rows = {s["name"]: s for s in plugins.listing(str(tmp_path))["sources"]}
    built = [name for name, s in rows.items() if s["data"] == plugins.BUILT_BY_UPSCALING]
    assert built == ["RF-Rh"]
    assert "rhbench upscale" in rows["RF-Rh"]["data"]
    assert rows["Hashimoto2015"]["data"] == "missing: rh"  # a product to fetch still says missing


def test_plugins_says_the_rf_product_is_missing_without_a_site_table(tmp_path):
    """Review: on a data root without the SRDB table, RF-Rh still said "built by rhbench
    upscale (and by rhbench run)", while a run there exits 2 (no reference at all)."""
    from rhbench.commands import plugins

    rows = {s["name"]: s for s in plugins.listing(str(tmp_path))["sources"]}
    assert rows["SRDB-V5"]["data"] == "missing: rh"
    assert rows["RF-Rh"]["data"].startswith("missing: rh, and so is the site table it is built from (SRDB-V5)")


def test_force_removes_an_earlier_products_files_the_new_run_does_not_write(inputs, tmp_path, monkeypatch):
    """Review: a CV-only run (no predictor stack) with --force into the folder of an earlier
    mapped product left that product's rh_rf.nc and totals.csv beside the new cv_metrics.json
    (whose totals are null): one folder held two products."""
    out = tmp_path / "out"
    assert _upscale(inputs, out) == 0
    assert (out / "rh_rf.nc").is_file() and (out / "totals.csv").is_file()
    (out / "notes.txt").write_text("my notes")
    monkeypatch.delenv("RHBENCH_DATA", raising=False)
    empty = tmp_path / "empty-root"
    empty.mkdir()
    argv = ["upscale", "--srdb", str(inputs[0]), "--data-root", str(empty), "--out", str(out), "--quick", "--force"]
    parser = argparse.ArgumentParser()
    upscale.add_parser(parser.add_subparsers())
    assert upscale.run(parser.parse_args(argv)) == 0
    assert json.loads((out / "cv_metrics.json").read_text()).get("totals") is None
    for name in MAP_FILES:
        assert not (out / name).exists(), name
    assert (out / "notes.txt").read_text() == "my notes"  # the user's own files stay
