"""The Rh upscaling on the real SRDB v5 copy in ../shared/data (measured figures asserted)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from rhbench.upscaling.product import OUTPUT_FILES, run_upscaling

SRDB_CSV = Path(__file__).parents[1].parent / "shared" / "data" / "srdb" / "srdb-data.csv"

pytestmark = pytest.mark.shared_data


@pytest.fixture(scope="module")
def srdb_csv() -> Path:
    if not SRDB_CSV.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"shared SRDB copy missing at {SRDB_CSV}")
        pytest.skip(f"shared SRDB copy not found at {SRDB_CSV}")
    return SRDB_CSV


def test_quick_run_on_real_srdb_is_reproducible_with_a_fixed_seed(srdb_csv, tmp_path):
    first = run_upscaling(srdb_csv, tmp_path / "a", quick=True, seed=7)
    second = run_upscaling(srdb_csv, tmp_path / "b", quick=True, seed=7)
    for key in ("r2", "nse", "rmse", "n_obs", "n_by_zone"):
        assert first[key] == second[key]
    assert first["n_obs"] == 542
    assert first["n_by_zone"] == {"tropical": 54, "temperate": 427, "boreal": 61}
    oof_a = pd.read_csv(tmp_path / "a" / "oof_predictions.csv")
    oof_b = pd.read_csv(tmp_path / "b" / "oof_predictions.csv")
    assert oof_a.equals(oof_b)
    log = pd.read_csv(tmp_path / "a" / "filter_log.csv").set_index("step")
    assert log.loc["MAT filled from SRDB Study_temp", "filled"] == 31
    assert log.loc["drop rows still missing MAT or MAP", "removed"] == 97
    assert log.loc["drop rows still missing vegetation class", "removed"] == 2


@pytest.mark.slow
def test_full_tuning_grid_on_real_srdb_is_fast_and_scores_in_measured_band(srdb_csv, tmp_path):
    metrics = run_upscaling(srdb_csv, tmp_path, seed=0)
    for name in OUTPUT_FILES:
        assert (tmp_path / name).is_file(), name
    assert json.loads((tmp_path / "cv_metrics.json").read_text())["r2"] == metrics["r2"]
    assert len(metrics["grid"]) == 12 and metrics["n_splits"] == 10
    assert metrics["tuning_seconds"] < 60.0
    # measured with seed 0: R2 0.516, NSE 0.515, RMSE 179.5 g C m-2 yr-1, best (200, 5), 542 rows
    assert 0.46 < metrics["r2"] < 0.56
    assert 0.46 < metrics["nse"] < 0.56
    assert 170.0 < metrics["rmse"] < 190.0
    importance = pd.read_csv(tmp_path / "importance.csv")
    assert importance["predictor"].iloc[0] == "MAT"
    assert importance["importance_percent"].sum() == pytest.approx(100.0)
