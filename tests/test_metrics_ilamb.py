"""ilamb3's Bias, RMSE, Spatial distribution and Overall scores against hand calculations."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from rhbench.errors import CoordinateError
from rhbench.metrics.ilamb import (
    MIN_RMSE_STEPS,
    NotAppropriate,
    bias_score,
    bias_score_map,
    ilamb_scores,
    overall_score,
    rmse_score,
    spatial_distribution,
)

LAT = [-10.0, 10.0]
LON = [0.0, 20.0]


def _map(values) -> xr.DataArray:
    return xr.DataArray(np.asarray(values, dtype=float), coords={"lat": LAT, "lon": LON}, dims=("lat", "lon"))


def _series(values) -> xr.DataArray:
    values = np.asarray(values, dtype=float)
    return xr.DataArray(
        values,
        coords={"year": np.arange(1982, 1982 + values.shape[0]), "lat": LAT, "lon": LON},
        dims=("year", "lat", "lon"),
    )


AREA = _map([[1.0, 1.0], [2.0, 2.0]])


def test_bias_score_of_static_maps_is_the_area_weighted_mean_of_exp_minus_relative_error():
    ref = _map([[100.0, 200.0], [50.0, 400.0]])
    mod = _map([[150.0, 200.0], [25.0, 800.0]])
    # relative errors 0.5, 0, 0.5, 1 -> exp(-.) ; weights 1, 1, 2, 2
    by_hand = (math.exp(-0.5) + 1.0 + 2 * math.exp(-0.5) + 2 * math.exp(-1.0)) / 6.0
    assert bias_score(ref, mod, AREA) == pytest.approx(by_hand, rel=1e-12)


def test_bias_score_of_an_identical_map_is_one_and_of_a_missing_cell_ignores_it():
    ref = _map([[100.0, 200.0], [50.0, 400.0]])
    assert bias_score(ref, ref, AREA) == pytest.approx(1.0)
    mod = _map([[np.nan, 200.0], [50.0, 400.0]])
    score = bias_score_map(ref, mod)
    assert np.isnan(float(score.isel(lat=0, lon=0)))
    assert bias_score(ref, mod, AREA) == pytest.approx(1.0)


def test_bias_score_normalises_by_the_reference_sd_over_time_when_the_reference_is_a_series():
    ref = _series([[[1.0, 1.0], [1.0, 1.0]], [[3.0, 3.0], [3.0, 3.0]]])  # mean 2, population SD 1
    mod = _series([[[4.0, 2.0], [2.0, 2.0]], [[4.0, 2.0], [2.0, 2.0]]])  # mean 4 in one cell, 2 elsewhere
    by_hand = (math.exp(-2.0) + 1.0 + 2.0 + 2.0) / 6.0
    assert bias_score(ref, mod, AREA) == pytest.approx(by_hand, rel=1e-12)


def test_bias_score_discounts_the_reference_uncertainty():
    ref = _map([[100.0, 100.0], [100.0, 100.0]])
    mod = _map([[130.0, 130.0], [130.0, 130.0]])
    uncertainty = _map([[10.0, 40.0], [10.0, 40.0]])
    # |diff| - u = 20 (score exp(-0.2)) or clipped to 0 (score 1)
    by_hand = (math.exp(-0.2) + 1.0 + 2 * math.exp(-0.2) + 2.0) / 6.0
    assert bias_score(ref, mod, AREA, uncertainty=uncertainty) == pytest.approx(by_hand, rel=1e-12)


def test_rmse_score_is_exp_of_minus_centred_rmse_over_reference_rms_per_cell():
    years = MIN_RMSE_STEPS
    t = np.arange(years, dtype=float)
    wave = np.where(t % 2 == 0, 1.0, -1.0)  # mean 0, rms 1
    ref = _series(np.broadcast_to((10.0 + wave)[:, None, None], (years, 2, 2)))
    # model: cell (0,0) wave doubled (centred error = |wave| = 1 everywhere -> crmse 1),
    # others the reference plus a constant offset (centred error 0)
    mod_values = np.broadcast_to((15.0 + wave)[:, None, None], (years, 2, 2)).copy()
    mod_values[:, 0, 0] = 10.0 + 2 * wave
    mod = _series(mod_values)
    by_hand = (math.exp(-1.0) + 1.0 + 2.0 + 2.0) / 6.0
    assert rmse_score(ref, mod, AREA) == pytest.approx(by_hand, rel=1e-12)


def test_rmse_score_is_not_appropriate_for_short_or_static_inputs():
    ref = _series(np.ones((MIN_RMSE_STEPS - 1, 2, 2)))
    with pytest.raises(NotAppropriate, match="at least 24"):
        rmse_score(ref, ref, AREA)
    with pytest.raises(NotAppropriate, match="the reference has no time axis \\(a static map\\)"):
        rmse_score(_map(np.ones((2, 2))), _map(np.ones((2, 2))), AREA)


def test_spatial_distribution_score_matches_the_taylor_formula_with_unweighted_moments():
    ref = _map([[1.0, 2.0], [3.0, 4.0]])
    mod = _map([[2.0, 4.0], [6.0, 9.0]])
    x, y = ref.values.ravel(), mod.values.ravel()
    sd_ratio = y.std() / x.std()
    r = np.corrcoef(x, y)[0, 1]
    stats = spatial_distribution(ref, mod)
    assert stats["normalized_sd"] == pytest.approx(sd_ratio)
    assert stats["correlation"] == pytest.approx(r)
    assert stats["score"] == pytest.approx(2 * (1 + r) / (sd_ratio + 1 / sd_ratio) ** 2)
    assert spatial_distribution(ref, ref)["score"] == pytest.approx(1.0)


def test_spatial_distribution_of_a_flat_reference_is_not_appropriate():
    with pytest.raises(NotAppropriate, match="no spatial variance"):
        spatial_distribution(_map(np.full((2, 2), 5.0)), _map([[1.0, 2.0], [3.0, 4.0]]))


def test_overall_score_is_the_plain_mean_of_the_defined_scores():
    assert overall_score({"a": 0.2, "b": 0.6, "c": float("nan"), "d": None}) == pytest.approx(0.4)
    assert math.isnan(overall_score({"a": float("nan")}))


def test_ilamb_scores_of_static_maps_skip_the_rmse_score_with_the_reason():
    ref = _map([[100.0, 200.0], [50.0, 400.0]])
    mod = _map([[150.0, 200.0], [25.0, 800.0]])
    scores, reasons = ilamb_scores(ref, mod, AREA)
    assert math.isnan(scores["rmse_score"]) and "24" in reasons["rmse_score"]
    expected = (scores["bias_score"] + scores["spatial_distribution_score"]) / 2
    assert scores["overall_score"] == pytest.approx(expected)
    assert set(reasons) == {"rmse_score"}


def test_ilamb_scores_refuse_maps_on_different_grids():
    other = _map(np.ones((2, 2))).assign_coords(lon=[1.0, 21.0])
    with pytest.raises(CoordinateError, match="same grid"):
        bias_score(_map(np.ones((2, 2))), other, AREA)


def test_the_run_reports_ilamb_scores_for_rh_csoil_and_tau_soil_and_the_gate_gates_them(small_demo_run):
    from rhbench.report.gate_rules import is_score

    outcome, _ = small_demo_run
    rows = {(r.source, r.metric): r for r in outcome.results.rows if r.region == "global"}
    for prefix in ("rh", "csoil", "tau_soil"):
        bias, spatial = (
            rows[("CLM5.0", f"{prefix}_bias_score")],
            rows[("CLM5.0", f"{prefix}_spatial_distribution_score")],
        )
        overall, rmse = rows[("CLM5.0", f"{prefix}_overall_score")], rows[("CLM5.0", f"{prefix}_rmse_score")]
        assert 0 < bias.value <= 1 and 0 < spatial.value <= 1
        assert overall.value == pytest.approx((bias.value + spatial.value) / 2)
        assert rmse.status == "skipped" and "24 steps" in rmse.reason
        assert all(is_score(m) for m in (bias.metric, spatial.metric, overall.metric, rmse.metric))
    assert rows[("Tang2020", "rh_bias_score")].status == "ok"
    assert ("Tang2020", "csoil_bias_score") not in rows  # a prior Rh product has no cSoil of its own
