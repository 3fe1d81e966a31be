"""Tests of the 2-box model, DGVM turnover times and the Monte Carlo constraint
(benchmark/twobox.py and benchmark/constraint.py). All data here are synthetic."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from rhbench import constraint
from rhbench.errors import DataError, MissingVariableError, ValueRangeError
from rhbench.metrics.totals import stack_masks
from rhbench.twobox import emulation_skill, fill_first_year, global_turnover, simulate
from rhbench.uptake import ENSEMBLE_SD, METRICS, SPREAD_METRICS, twobox_results

YEARS = np.arange(1901, 2019)


def _rh(csoil: np.ndarray, tau_soil: np.ndarray) -> np.ndarray:
    """Soil outflux of the discrete scheme, cSoil[t-1] / tau_soil[t], for t >= 1."""
    return csoil[..., :-1] / tau_soil[..., 1:]


# --- simulate ---------------------------------------------------------------------------


def test_constant_forcing_stays_at_steady_state_bit_for_bit():
    npp = np.array([[57.3], [61.9], [43.7]]) * np.ones(118)
    tau_veg = np.array([[9.7], [13.1], [4.3]]) * np.ones(118)
    tau_soil = np.array([[31.1], [17.9], [52.3]]) * np.ones(118)
    cveg, csoil = simulate(npp, tau_veg, tau_soil)
    np.testing.assert_array_equal(cveg, npp * tau_veg)
    np.testing.assert_array_equal(csoil, npp * tau_soil)


def test_npp_step_matches_closed_form_of_discrete_scheme():
    # NPP jumps from n0 to n1 in year s. With p = 1 - 1/tv, q = 1 - 1/ts, D = n0 - n1 and
    # k = t - s + 1 steps since the jump: cVeg - n1 tv = p^k D tv, and the soil anomaly
    # f_k = q f_{k-1} + D p^(k-1) with f_0 = D ts gives f_k = D (q^k ts + (q^k - p^k)/(q - p)).
    n0, n1, tv, ts, s = 50.0, 65.0, 8.0, 30.0, 20
    npp = np.where(np.arange(118) < s, n0, n1)
    cveg, csoil = simulate(npp, np.full(118, tv), np.full(118, ts))
    p, q, d = 1 - 1 / tv, 1 - 1 / ts, n0 - n1
    k = np.maximum(np.arange(118) - s + 1, 0)
    np.testing.assert_allclose(cveg, n1 * tv + p**k * d * tv, rtol=1e-13)
    np.testing.assert_allclose(csoil, n1 * ts + d * (q**k * ts + (q**k - p**k) / (q - p)), rtol=1e-13)
    assert cveg[s - 1] == n0 * tv and csoil[s - 1] == n0 * ts


def test_mass_balance_closes_every_year():
    rng = np.random.default_rng(3)
    npp = 50 + np.cumsum(rng.normal(0.1, 1.0, (4, 118)), axis=-1)
    tau_veg = rng.uniform(2, 15, (4, 118))
    tau_soil = rng.uniform(5, 60, (4, 118))
    cveg, csoil = simulate(npp, tau_veg, tau_soil)
    change = (cveg + csoil)[..., 1:] - (cveg + csoil)[..., :1]
    budget = np.cumsum(npp[..., 1:] - _rh(csoil, tau_soil), axis=-1)
    np.testing.assert_allclose(budget, change, rtol=1e-9, atol=1e-9 * np.abs(change).max())


def test_simulate_broadcasts_leading_dims():
    npp = np.linspace(50, 60, 10)
    tau_veg = np.array([[8.0], [12.0]])[:, None, :] + np.linspace(0, 1, 10)  # (2, 1, 10)
    tau_soil = np.array([20.0, 30.0, 40.0])[None, :, None] * np.ones(10)  # (1, 3, 10)
    cveg, csoil = simulate(npp, tau_veg, tau_soil)
    assert cveg.shape == csoil.shape == (2, 3, 10)
    one_veg, one_soil = simulate(npp, tau_veg[1, 0], tau_soil[0, 2])
    np.testing.assert_array_equal(cveg[1, 2], one_veg)
    np.testing.assert_array_equal(csoil[1, 2], one_soil)


@pytest.mark.parametrize("bad", [0.5, np.nan, -3.0])
def test_simulate_rejects_turnover_below_one_year_or_missing(bad):
    tau = np.full(5, 10.0)
    tau[3] = bad
    with pytest.raises(ValueRangeError, match="tau_soil"):
        simulate(np.full(5, 50.0), np.full(5, 10.0), tau)
    with pytest.raises(DataError, match="length"):
        simulate(np.full(5, 50.0), np.full(4, 10.0), np.full(5, 30.0))


def test_fill_first_year_copies_second_year_and_leaves_input_alone():
    tau = np.array([[np.nan, 11.0, 12.0], [1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(fill_first_year(tau), [[11.0, 11.0, 12.0], [2.0, 2.0, 3.0]])
    assert np.isnan(tau[0, 0])


# --- bias correction, draws, floor policy -----------------------------------------------


def test_bias_correction_reproduces_observed_reference_mean_and_keeps_anomalies():
    tau_sim = 20.0 + 0.05 * (YEARS - 1901) + np.sin(YEARS)  # trend + interannual variation
    corrected = constraint.bias_correct(tau_sim[None, :], np.array([38.3, 27.0]), YEARS)
    ref = (YEARS >= 1982) & (YEARS <= 2018)
    np.testing.assert_allclose(corrected[:, ref].mean(axis=-1), [38.3, 27.0], rtol=1e-14)
    shift = corrected - tau_sim
    np.testing.assert_allclose(shift, shift[:, :1] * np.ones(118), rtol=1e-12)
    with pytest.raises(ValueRangeError, match="reference period"):
        constraint.bias_correct(tau_sim[:50], 38.3, YEARS[:50])


def test_draws_are_seeded_and_follow_the_observed_distributions():
    veg, soil = constraint.draw_observed_taus(20000, seed=7)
    again, _ = constraint.draw_observed_taus(20000, seed=7)
    np.testing.assert_array_equal(veg, again)
    assert abs(veg.mean() - 10.3) < 0.05 and abs(veg.std() - 1.4) < 0.05
    assert abs(soil.mean() - 38.3) < 0.3 and abs(soil.std() - 11.0) < 0.3
    assert not np.array_equal(veg, constraint.draw_observed_taus(20000, seed=8)[0])


def test_floor_policy_clips_turnover_below_one_year_and_counts_runs():
    clipped, low = constraint.floor_turnover(np.array([[5.0, 0.2, -1.0], [3.0, 2.0, 1.0]]))
    np.testing.assert_array_equal(clipped, [[5.0, 1.0, 1.0], [3.0, 2.0, 1.0]])
    np.testing.assert_array_equal(low, [True, False])
    # constant model taus: corrected tau = drawn tau, so a run is clipped iff its soil draw < 1
    npp, tv, ts = np.full((1, 118), 50.0), np.full((1, 118), 9.0), np.full((1, 118), 20.0)
    soil_obs = np.array([-4.0, 0.5, 3.0, 30.0])
    stats = constraint.monte_carlo(npp, tv, ts, YEARS, np.array([10.0, 11.0]), soil_obs)
    np.testing.assert_allclose(stats.clipped, [0.5, 0.5])
    floored = constraint.monte_carlo(npp, tv, ts, YEARS, np.array([10.0, 11.0]), [1.0, 1.0, 3.0, 30.0])
    np.testing.assert_allclose(stats.mean["dcTotal"], floored.mean["dcTotal"], rtol=1e-12)


# --- Monte Carlo ------------------------------------------------------------------------


def _forcing(n_models: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    trend = np.linspace(0, 1, 118)
    npp = rng.uniform(45, 60, (n_models, 1)) * (1 + 0.25 * trend) + rng.normal(0, 1, (n_models, 118))
    tau_veg = rng.uniform(6, 12, (n_models, 1)) - trend + rng.normal(0, 0.2, (n_models, 118))
    tau_soil = rng.uniform(15, 35, (n_models, 1)) - 3 * trend + rng.normal(0, 1, (n_models, 118))
    return npp, tau_veg, tau_soil


def test_monte_carlo_statistics_equal_brute_force_over_crossed_runs():
    npp, tv, ts = _forcing(3)
    veg_obs, soil_obs = np.array([8.0, 10.3, 12.5]), np.array([25.0, 38.3, 44.0, 60.0])
    stats = constraint.monte_carlo(npp, tv, ts, YEARS, veg_obs, soil_obs)
    tvc = constraint.bias_correct(tv[:, None, None, :], veg_obs[:, None], YEARS)  # (3, 3, 1, T)
    tsc = constraint.bias_correct(ts[:, None, None, :], soil_obs, YEARS)  # (3, 1, 4, T)
    cveg, csoil = simulate(npp[:, None, None, :], tvc, tsc)  # (model, veg, soil, year)
    pools = {"dcVeg": cveg, "dcSoil": csoil, "dcTotal": cveg + csoil}
    for name, pool in pools.items():
        dc = (pool - pool[..., :1]).reshape(3, 12, 118)
        runs = np.concatenate([dc, dc.mean(axis=0, keepdims=True)])
        np.testing.assert_allclose(stats.mean[name], runs.mean(axis=1), rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(stats.sd[name], runs.std(axis=1), rtol=1e-7, atol=1e-7)
    c_total = (cveg + csoil).reshape(3, 12, 118).mean(axis=1)
    np.testing.assert_allclose(stats.c_total[:3], c_total, rtol=1e-12)
    np.testing.assert_allclose(stats.c_total[3], c_total.mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(stats.clipped, 0.0)


def test_monte_carlo_converges_to_gauss_hermite_reference():
    npp, tv, ts = _forcing(1, seed=5)
    obs_v, obs_s = (10.3, 1.4), (38.3, 6.0)  # soil SD kept small: the floor is ~6 SD away
    # reference: expectation over the two normals by 24-point Gauss-Hermite quadrature (the
    # floor, applied as in the Monte Carlo, touches only nodes of negligible weight)
    nodes, weights = np.polynomial.hermite_e.hermegauss(24)
    weights = weights / weights.sum()
    tau_v = constraint.bias_correct(tv[:, None, :], obs_v[0] + obs_v[1] * nodes, YEARS)
    tau_s = constraint.bias_correct(ts[:, None, :], obs_s[0] + obs_s[1] * nodes, YEARS)
    tvc = constraint.floor_turnover(tau_v)[0][:, :, None, :]
    tsc = constraint.floor_turnover(tau_s)[0][:, None, :, :]
    cveg, csoil = simulate(npp[:, None, None, :], tvc, tsc)
    dc = (cveg + csoil)[0, ..., -1] - (cveg + csoil)[0, ..., 0]
    w = np.outer(weights, weights)
    ref_mean = float((w * dc).sum())
    ref_sd = math.sqrt(float((w * (dc - ref_mean) ** 2).sum()))
    draws = constraint.draw_observed_taus(400, tau_veg_obs=obs_v, tau_soil_obs=obs_s, seed=11)
    stats = constraint.monte_carlo(npp, tv, ts, YEARS, *draws)
    # standard error of the mean ~ sd / sqrt(400); of the sd ~ sd / sqrt(2 * 400)
    assert abs(stats.mean["dcTotal"][0, -1] - ref_mean) < 4 * ref_sd / 20
    assert abs(stats.sd["dcTotal"][0, -1] - ref_sd) < 4 * ref_sd / math.sqrt(800)
    few = constraint.monte_carlo(npp, tv, ts, YEARS, *(d[:4] for d in draws))
    assert abs(few.sd["dcTotal"][0, -1] - ref_sd) > abs(stats.sd["dcTotal"][0, -1] - ref_sd)


# --- DGVM turnover times and emulation -------------------------------------------------

AREA = xr.DataArray(
    [[1e12, 2e12], [3e12, 4e12]],
    dims=("lat", "lon"),
    coords={"lat": [-45.0, 45.0], "lon": [0.0, 90.0]},
)


def _grid(values: list, years: list[int]) -> xr.DataArray:
    return xr.DataArray(
        np.asarray(values, dtype=float),
        dims=("year", "lat", "lon"),
        coords={"year": years, "lat": AREA["lat"], "lon": AREA["lon"]},
    )


def test_global_turnover_matches_hand_computation():
    years = [2000, 2001, 2002]
    npp = _grid([[[100, 200], [300, 400]]] * 3, years)
    rh = _grid([[[90, 190], [290, np.nan]]] + [[[100, 200], [300, 500]]] * 2, years)  # cell 4 out
    cveg = _grid([[[1.0, 1.0], [1.0, 1.0]], [[1.1, 1.1], [1.1, 1.1]], [[1.3, 1.3], [1.3, 9]]], years)
    csoil = _grid([[[10, 10], [10, 10]]] * 3, years)
    out = global_turnover(xr.Dataset({"npp": npp, "rh": rh, "cVeg": cveg, "cSoil": csoil}), AREA)
    # cells 1-3 only (6e12 m2): npp = (100*1 + 200*2 + 300*3) g m-2 yr-1 * 1e12 m2 = 1.4 Pg/yr
    np.testing.assert_allclose(out["npp"], [1.4, 1.4, 1.4])
    np.testing.assert_allclose(out["rh"], [1.34, 1.4, 1.4])
    np.testing.assert_allclose(out["cVeg"], [6.0, 6.6, 7.8])  # kg m-2 * 6e12 m2 / 1e12
    # dcVeg/dt: forward 0.6, centred (7.8 - 6.0) / 2 = 0.9, backward 1.2 Pg C yr-1
    np.testing.assert_allclose(out["litterfall"], [0.8, 0.5, 0.2])
    np.testing.assert_allclose(out["tau_veg"], [6.0 / 0.8, 6.6 / 0.5, 7.8 / 0.2])
    np.testing.assert_allclose(out["tau_soil"], [60.0 / 1.34, 60.0 / 1.4, 60.0 / 1.4])
    south = xr.DataArray([[True, True], [False, False]], dims=("lat", "lon"), coords=AREA.coords)
    ds = xr.Dataset({"npp": npp, "rh": rh, "cVeg": cveg, "cSoil": csoil})
    by_region = global_turnover(ds, AREA, stack_masks({"south": south, "north": ~south}))
    np.testing.assert_allclose(by_region["npp"].sel(region="south"), [0.5] * 3)  # 100*1 + 200*2
    np.testing.assert_allclose(by_region["cSoil"].sel(region="north"), [30.0] * 3)  # cell 4 out
    litter = xr.Dataset({"npp": npp, "rh": rh, "cVeg": cveg, "cSoil": csoil, "fVegLitter": npp / 2})
    np.testing.assert_allclose(global_turnover(litter, AREA)["tau_veg"], [6 / 0.7, 6.6 / 0.7, 7.8 / 0.7])
    with pytest.raises(MissingVariableError, match="rh"):
        global_turnover(litter.drop_vars("rh"), AREA)


def _dgvm(npp: np.ndarray, tau_veg: float, tau_soil: float, years=YEARS) -> xr.Dataset:
    """A synthetic DGVM that is itself a 2-box model with constant turnover times, spread
    uniformly (per m2) over the four cells of AREA (1e13 m2)."""
    cveg, csoil = simulate(npp, np.full(npp.size, tau_veg), np.full(npp.size, tau_soil))
    per_m2 = {
        "npp": npp * 1e15,
        "rh": csoil / tau_soil * 1e15,
        "fVegLitter": cveg / tau_veg * 1e15,
        "cVeg": cveg * 1e12,
        "cSoil": csoil * 1e12,
    }
    return xr.Dataset({k: _grid(v[:, None, None] / 1e13 * np.ones((1, 2, 2)), list(years)) for k, v in per_m2.items()})


NPP = 50.0 + 15.0 * np.linspace(0, 1, 118) ** 2


def test_emulation_reproduces_a_dgvm_that_is_a_two_box_model():
    skill = emulation_skill(global_turnover(_dgvm(NPP, 10.0, 30.0), AREA))
    cveg, csoil = simulate(NPP, np.full(118, 10.0), np.full(118, 30.0))
    np.testing.assert_allclose(skill["dcTotal_emulated"], cveg + csoil - cveg[0] - csoil[0], rtol=1e-9)
    np.testing.assert_allclose(skill["dcTotal_emulated"], skill["dcTotal_dgvm"], rtol=1e-9, atol=1e-9)
    assert float(skill["emulation_r2"]) == pytest.approx(1.0, abs=1e-12)


def _rows(results, **where) -> dict:
    return {(r.source, r.metric): r for r in results.rows if all(getattr(r, k) == v for k, v in where.items())}


def test_twobox_results_rows_for_a_two_model_ensemble():
    models = {
        "A": _dgvm(NPP, 10.3, 38.3),
        "B": _dgvm(NPP, 5.0, 20.0).chunk({"year": 50}),  # lazy (dask) input works too
        "C": _dgvm(NPP, 9, 30).drop_vars("rh"),
    }
    exact = ((10.3, 0.0), (38.3, 0.0))  # zero SD: every draw is the observed mean
    mask = xr.DataArray([[True, True], [False, False]], dims=("lat", "lon"), coords=AREA.coords)
    results = twobox_results(
        models,
        AREA,
        regions={"ENF": mask, "Crop": mask, "Shrub": mask, "Empty": mask & False},
        tau_obs={"global": exact, "ENF": exact, "Empty": exact},
        n_draws=3,
        seed=0,
    )
    glob = _rows(results, region="global")
    assert {r.region for r in results.rows} == {"global", "ENF", "Shrub", "Empty"}  # no Crop
    assert len(glob) == 4 * len(METRICS) + len(SPREAD_METRICS)  # A, B, C, mean; SD across A and B
    assert all(glob["C", m].status == "skipped" and "rh" in glob["C", m].reason for m in METRICS)
    assert all(r.status == "skipped" for r in results.rows if r.region == "Shrub")
    a_u, b_u = glob["A", "dcTotal_unconstrained"].value, glob["B", "dcTotal_unconstrained"].value
    cveg, csoil = simulate(NPP, np.full(118, 10.3), np.full(118, 38.3))
    assert a_u == pytest.approx(cveg[-1] + csoil[-1] - cveg[0] - csoil[0], rel=1e-9)
    # corrected turnover of B equals A's (constant taus), so B constrained = A unconstrained
    for source in ("A", "B", "ensemble_mean"):
        assert glob[source, "dcTotal_constrained"].value == pytest.approx(a_u, rel=1e-9)
        assert glob[source, "dcTotal_constrained_sd"].value == pytest.approx(0.0, abs=1e-9)
    assert glob["A", "underestimation_pct"].value == pytest.approx(0.0, abs=1e-9)
    assert glob["B", "underestimation_pct"].value == pytest.approx((a_u - b_u) / a_u * 100, rel=1e-9)
    assert glob["ensemble_mean", "dcTotal_unconstrained"].value == pytest.approx((a_u + b_u) / 2)
    assert glob["ensemble_mean", "dcTotal_unconstrained"].kind == "ensemble"
    assert glob["B", "emulation_r2"].value == pytest.approx(1.0, abs=1e-9)
    assert glob["B", "emulation_rmse"].value == pytest.approx(0.0, abs=1e-9)
    # SD (ddof=1) of two values is |a - b| / sqrt(2)
    assert glob[ENSEMBLE_SD, "dcTotal_unconstrained"].value == pytest.approx(abs(a_u - b_u) / math.sqrt(2))
    assert glob[ENSEMBLE_SD, "dcTotal_constrained"].value == pytest.approx(0.0, abs=1e-9)
    enf = _rows(results, region="ENF")  # 3/10 of the area (uniform per m2): 3/10 of the carbon
    assert enf["B", "dcTotal_unconstrained"].value == pytest.approx(b_u * 3 / 10, rel=1e-9)
    assert enf["B", "dcTotal_constrained"].value == pytest.approx(a_u * 3 / 10, rel=1e-9)
    empty = _rows(results, region="Empty")  # no cell: turnover 0/0, reported not raised
    assert {(s, r.status) for (s, _), r in empty.items()} == {
        ("A", "failed"),
        ("B", "failed"),
        ("C", "skipped"),
        ("ensemble_mean", "skipped"),
    }
    assert "tau_veg" in empty["A", "dcTotal_constrained"].reason
    series = results.datasets["twobox"]
    assert dict(series.sizes) == {"region": 2, "source": 3, "year": 118}  # A, B, ensemble_mean
    assert float(series["dcTotal_constrained"].sel(region="global", source="B")[-1]) == pytest.approx(a_u)


def test_a_model_with_a_short_time_axis_never_changes_another_models_constraint():
    """Issue 13: CLM5.0 cut to 2009-2018 changed JSBACH's constrained dcTotal (543.19 -> 3.05)."""
    npp_b = 40.0 + 25.0 * np.linspace(0, 1, 118) ** 1.5
    full = {"A": _dgvm(NPP, 8.0, 15.0), "B": _dgvm(npp_b, 12.0, 28.0)}
    obs = {"global": ((10.3, 1.4), (38.3, 11.0))}
    before = _rows(twobox_results(full, AREA, tau_obs=obs, n_draws=5), region="global")
    cut = {"A": full["A"], "B": full["B"].sel(year=slice(2009, 2018))}
    after = _rows(twobox_results(cut, AREA, tau_obs=obs, n_draws=5), region="global")
    for metric in METRICS:
        assert after["A", metric].value == pytest.approx(before["A", metric].value, rel=1e-12, abs=1e-12), metric
        assert after["B", metric].status == "failed"
        assert "reference period" in after["B", metric].reason and "2009-2018" in after["B", metric].reason
    # the ensemble is A alone now, and says which model it left out (or failed)
    alone = before["A", "dcTotal_constrained"].value
    assert after["ensemble_mean", "dcTotal_constrained"].value == pytest.approx(alone)
    assert after[ENSEMBLE_SD, "dcTotal_constrained"].status == "skipped"


def test_a_model_shifted_in_time_is_constrained_alone_and_left_out_of_the_ensemble():
    late = np.arange(1951, 2019)
    full = {"A": _dgvm(NPP, 8.0, 15.0), "B": _dgvm(NPP, 8.0, 15.0), "C": _dgvm(NPP[:68], 9.0, 20.0, late)}
    glob = _rows(twobox_results(full, AREA, n_draws=3), region="global")
    cveg, csoil = simulate(NPP[:68], np.full(68, 9.0), np.full(68, 20.0))
    assert glob["C", "dcTotal_unconstrained"].value == pytest.approx(cveg[-1] + csoil[-1] - cveg[0] - csoil[0])
    assert "changes 1951-2018" in glob["C", "dcTotal_constrained"].reason
    ens = glob["ensemble_mean", "dcTotal_unconstrained"]
    assert ens.value == pytest.approx(glob["A", "dcTotal_unconstrained"].value)  # A and B are identical
    assert "left out (other years): C" in ens.reason


def test_a_class_without_observed_tau_veg_constrains_tau_soil_only_and_says_so():
    models = {"A": _dgvm(NPP, 4.0, 20.0)}
    mask = xr.DataArray([[True, True], [False, False]], dims=("lat", "lon"), coords=AREA.coords)
    exact_soil = (38.3, 0.0)
    results = twobox_results(
        models, AREA, regions={"ENF": mask}, tau_obs={"ENF": (None, exact_soil)}, n_draws=3, seed=0
    )
    enf = _rows(results, region="ENF")
    # tau_veg stays 4 yr, tau_soil becomes 38.3 yr: closed form from the 2-box model on 3/10 of NPP
    cveg, csoil = simulate(NPP * 0.3, np.full(118, 4.0), np.full(118, 38.3))
    assert enf["A", "dcVeg_constrained"].value == pytest.approx(enf["A", "dcVeg_unconstrained"].value, rel=1e-9)
    assert enf["A", "dcVeg_constrained"].value == pytest.approx(cveg[-1] - cveg[0], rel=1e-9)
    assert enf["A", "dcSoil_constrained"].value == pytest.approx(csoil[-1] - csoil[0], rel=1e-9)
    assert enf["A", "dcTotal_constrained_sd"].value == pytest.approx(0.0, abs=1e-9)
    for (source, _), row in enf.items():
        if source != ENSEMBLE_SD:  # a single model: no spread
            assert "only tau_soil constrained in ENF" in row.reason


def test_r2_and_rmse_of_the_emulation_check_match_hand_values():
    from rhbench.twobox import r2_score, rmse

    own = np.array([0.0, 1.0, 2.0, 3.0])
    emulated = np.array([0.0, 1.0, 2.0, 5.0])
    # SSE = 4, SST = 5 -> r2 = 1 - 4/5; RMSE = sqrt(4 / 4)
    assert r2_score(emulated, own) == pytest.approx(0.2)
    assert rmse(emulated, own) == pytest.approx(1.0)
    assert math.isnan(r2_score(own, np.ones(4)))


def test_the_2box_global_domain_is_the_observed_tau_domain():
    """Issue 15: the emulation sums the same cells as the observed tau (here 3 of 4 cells)."""
    from rhbench import reduce

    model = _dgvm(NPP, 8.0, 15.0)
    domain = xr.DataArray([[True, True], [True, False]], dims=("lat", "lon"), coords=AREA.coords)
    parts = reduce.partition({}, AREA, domain=domain)
    assert parts.names == ("other", "outside_domain")
    totals = reduce.partition_totals(model, AREA, parts)
    full = _rows(twobox_results({"A": model}, AREA, n_draws=2), region="global")
    cut = _rows(twobox_results({"A": totals}, parts.area, domain=parts.domain, n_draws=2), region="global")
    # uniform per m2: the domain holds (1 + 2 + 3) / 10 of the area, hence of every change
    for metric in ("dcTotal_unconstrained", "dcTotal_dgvm", "dcVeg_constrained"):
        assert cut["A", metric].value == pytest.approx(0.6 * full["A", metric].value, rel=1e-9)


def test_the_reference_window_is_the_reference_period_cut_to_the_models_years():
    from rhbench.uptake import reference_window

    assert reference_window(np.arange(1901, 2019)) == (1982, 2018)
    assert reference_window(np.arange(1850, 2015)) == (1982, 2014)  # CMIP6 historical
    with pytest.raises(ValueRangeError, match="reference period"):
        reference_window(np.arange(2009, 2019))  # 10 of 37 years
    with pytest.raises(ValueRangeError, match="missing e.g. 1990"):
        reference_window(np.setdiff1d(np.arange(1901, 2019), [1990]))


def test_a_cmip6_historical_model_ending_in_2014_is_constrained_over_1982_2014_and_says_so():
    years = np.arange(1850, 2015)
    npp_h = 45.0 + 20.0 * np.linspace(0, 1, years.size) ** 2
    models = {"A": _dgvm(NPP, 8.0, 15.0), "H": _dgvm(npp_h, 9.0, 30.0, years=years)}
    obs = {"global": ((10.3, 1.4), (38.3, 11.0))}
    rows = _rows(twobox_results(models, AREA, tau_obs=obs, n_draws=5), region="global")
    alone = _rows(twobox_results({"A": models["A"]}, AREA, tau_obs=obs, n_draws=5), region="global")
    for metric in METRICS:
        row = rows["H", metric]
        assert row.status == "ok", (metric, row)
        assert "changes 1901-2014" in row.reason and "over 1982-2014" in row.reason, row.reason  # from 1901: audit 13
        assert "its years 1850-1900 left out" in row.reason
        assert "over 1982" not in rows["A", metric].reason  # a TRENDY model keeps 1982-2018, silently
        assert rows["A", metric].value == pytest.approx(alone["A", metric].value, rel=1e-12, abs=1e-12)
    assert np.isfinite(rows["H", "dcTotal_constrained"].value)


def test_ensemble_rows_not_linear_in_the_members_are_of_the_mean_series_and_say_so():
    """underestimation_pct of ensemble_mean is that of the ensemble-mean dcTotal series (the paper's
    30 %), not the mean of the models' percentages; its reason says so (a mean +- SD row would mislead)."""
    models = {"A": _dgvm(NPP, 10.3, 38.3), "B": _dgvm(40.0 + 30.0 * np.linspace(0, 1, 118) ** 3, 5.0, 20.0)}
    exact = ((10.3, 0.0), (38.3, 0.0))
    glob = _rows(twobox_results(models, AREA, tau_obs={"global": exact}, n_draws=3, seed=0), region="global")
    new, old = (glob["ensemble_mean", f"dcTotal_{k}"].value for k in ("constrained", "unconstrained"))
    series = (new - old) / new * 100
    mean_of_models = (glob["A", "underestimation_pct"].value + glob["B", "underestimation_pct"].value) / 2
    assert abs(series - mean_of_models) > 1.0  # the two definitions differ here
    assert glob["ensemble_mean", "underestimation_pct"].value == pytest.approx(series, rel=1e-9)
    for metric in ("underestimation_pct", "emulation_r2", "emulation_rmse"):
        reason = glob["ensemble_mean", metric].reason
        assert reason.startswith("of the ensemble-mean dcTotal series, not the mean of the models' values")
        assert "mean of 2 models over 1901-2018" in reason
    for metric in ("dcTotal_constrained", "dcTotal_unconstrained", "dcVeg_constrained"):
        assert "ensemble-mean dcTotal series" not in glob["ensemble_mean", metric].reason
