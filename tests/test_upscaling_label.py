"""REAL, UNVERIFIED or SYNTHETIC for an Rh upscaling: one rule (``upscaling.inputs.provenance``), decided
from the inputs, the same from ``rhbench upscale`` and from a run's reference stage.

REAL only when the site table is the pinned SRDB release and no predictor grid is synthetic;
the data root's name or ``demo.json`` marker never decides. Before the rule was shared,
``rhbench upscale`` labelled any demo root SYNTHETIC while a run labelled it from its grids.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest
import xarray as xr
from conftest import SMALL_DEMO_RESOLUTION, shared_data_path
from test_upscaling_product import synthetic_grids

from rhbench import grid, observations
from rhbench.commands import upscale
from rhbench.config import RunConfig
from rhbench.registry import build_registry
from rhbench.results import Failures
from rhbench.upscaling import inputs
from rhbench.upscaling.stack import PredictorStack

pytestmark = pytest.mark.shared_data

JIAN = ("jian2020", "global_Rt_contribution_to_Rs2.nc")


def _stack(synthetic: bool) -> PredictorStack:
    return PredictorStack(xr.Dataset(), {}, {"source": "test layers", "synthetic": str(synthetic).lower()})


@pytest.mark.parametrize(
    ("site", "grids", "label"),
    [
        ("real", "real", "REAL"),
        ("real", "demo", "SYNTHETIC"),
        ("demo", "real", "SYNTHETIC"),
        ("demo", "demo", "SYNTHETIC"),
    ],
)
def test_the_rule_needs_a_pinned_site_table_and_real_grids(demo_root, site, grids, label):
    registry = build_registry()
    srdb = shared_data_path("srdb", "srdb-data.csv") if site == "real" else demo_root / "srdb" / "srdb-data.csv"
    files = [shared_data_path(*JIAN)] if grids == "real" else [demo_root / "obs/predictors/CRU-TS4_tas.nc"]
    info = inputs.provenance(registry, srdb, _stack(False), files)
    assert info["data_label"] == label, info["data_label_reason"]
    assert info["synthetic"] is (label == "SYNTHETIC")
    assert info["srdb_checksum"] == ("pinned" if site == "real" else "not pinned")


def test_a_stack_flagged_synthetic_is_synthetic_and_an_unpinned_table_unverified(demo_root, tmp_path):
    """An edited real SRDB was labelled SYNTHETIC: it is UNVERIFIED (real-looking, not the
    pinned release), with the reason; a table or stack that says it is synthetic stays SYNTHETIC."""
    registry = build_registry()
    real = shared_data_path("srdb", "srdb-data.csv")
    assert inputs.provenance(registry, real, None)["data_label"] == "REAL"  # CV report: the table decides
    assert inputs.provenance(registry, real, _stack(True))["data_label"] == "SYNTHETIC"
    edited = tmp_path / "srdb-data.csv"
    edited.write_bytes(real.read_bytes() + b"\n")  # one byte more: not the pinned release
    info = inputs.provenance(registry, edited, _stack(False), [shared_data_path(*JIAN)])
    assert info["data_label"] == "UNVERIFIED" and info["synthetic"] is False
    assert info["data_label_reason"] == "site table srdb-data.csv is not a pinned release (SHA-256 differs)"
    demo_table = demo_root / "srdb" / "srdb-data.csv"  # the demo's table says it is synthetic (a column)
    info = inputs.provenance(registry, demo_table, _stack(False), [shared_data_path(*JIAN)])
    assert info["data_label"] == "SYNTHETIC" and "marked synthetic" in info["data_label_reason"]


def _root(tmp_path: Path, demo_root: Path, *, real_srdb: bool, real_stack: bool) -> Path:
    """A copy of the SYNTHETIC demo root (``demo.json`` kept) with real inputs swapped in."""
    root = tmp_path / "root"
    shutil.copytree(demo_root, root, ignore=shutil.ignore_patterns("trendy_v9", "ILAMB"))
    if real_srdb:
        shutil.copyfile(shared_data_path("srdb", "srdb-data.csv"), root / "srdb" / "srdb-data.csv")
    if real_stack:
        (root / "jian2020").mkdir()
        shutil.copyfile(shared_data_path(*JIAN), root / "jian2020" / JIAN[1])
    assert (root / "demo.json").is_file()
    return root


def _cli_label(root: Path, out: Path, *extra: str) -> str:
    parser = argparse.ArgumentParser()
    upscale.add_parser(parser.add_subparsers())
    args = parser.parse_args(["upscale", "--data-root", str(root), "--out", str(out), "--quick", *extra])
    assert upscale.run(args) == 0
    return json.loads((out / "cv_metrics.json").read_text())["data_label"]


def _run_label(root: Path, out: Path) -> str:
    """The label a run's reference stage gives the product it builds (observations._upscaled)."""
    config = RunConfig(data_root=root, out=out, resolution=SMALL_DEMO_RESOLUTION, quick_upscaling=True, demo=False)
    registry, target, failures = build_registry(), grid.common_grid(SMALL_DEMO_RESOLUTION), Failures()
    classes = observations._vegetation(registry, root, target, failures)
    built = observations._upscaled(config, registry, root, target, classes, out, "RF", failures)
    assert built is not None, failures
    with xr.open_dataset(built) as product:
        label = str(product.attrs["data_label"])
    assert json.loads((built.parent / "cv_metrics.json").read_text())["data_label"] == label
    return label


@pytest.mark.slow
def test_real_srdb_with_synthetic_grids_is_synthetic_from_the_command_and_from_a_run(demo_root, tmp_path):
    """Mixed inputs in a demo root: the real pinned SRDB, the demo's SYNTHETIC climate grids."""
    root = _root(tmp_path, demo_root, real_srdb=True, real_stack=False)
    assert _run_label(root, tmp_path / "run") == "SYNTHETIC"  # the run's product uses the demo grids
    # the command given SYNTHETIC grids (tas, pr, vegclass; synthetic = 1 as the demo writes)
    grids = tmp_path / "grids.nc"
    synthetic_grids().to_netcdf(grids)
    assert _cli_label(root, tmp_path / "cli", "--predictors", str(grids)) == "SYNTHETIC"
    # without grids the command makes the CV report from the real table alone: REAL, and it says why
    assert _cli_label(root, tmp_path / "cv") == "REAL"
    reason = json.loads((tmp_path / "cv" / "cv_metrics.json").read_text())["data_label_reason"]
    assert reason == "pinned site table (no predictor grids)"


@pytest.mark.slow
def test_demo_srdb_with_the_real_stack_is_synthetic_and_both_real_is_real_from_both(demo_root, tmp_path):
    """The real Jian et al. 2020 stack with the demo's SYNTHETIC site table: SYNTHETIC from both
    entry points; with the real SRDB as well, REAL from both (a demo root does not decide)."""
    root = _root(tmp_path, demo_root, real_srdb=False, real_stack=True)
    assert _run_label(root, tmp_path / "run") == "SYNTHETIC"
    assert _cli_label(root, tmp_path / "cli") == "SYNTHETIC"
    shutil.copyfile(shared_data_path("srdb", "srdb-data.csv"), root / "srdb" / "srdb-data.csv")
    assert _run_label(root, tmp_path / "run2") == "REAL"
    assert _cli_label(root, tmp_path / "cli2") == "REAL"
