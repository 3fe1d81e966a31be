"""Tests of turnover times, litterfall and the tau_soil bias attribution."""

import numpy as np
import pytest
import xarray as xr

from rhbench.errors import MissingVariableError
from rhbench.metrics.turnover import (
    CSOIL_DOMINATED,
    RH_DOMINATED,
    RH_FLOOR_FOR_TAU,
    attribute_tau_bias,
    litterfall,
    observed_tau_soil,
    ratio_of_totals,
    tau_floor_note,
    tau_map,
    time_derivative,
)

COORDS = {"lat": [0.0], "lon": [0.0, 1.0, 2.0, 3.0]}


def _row(values) -> xr.DataArray:
    return xr.DataArray(np.asarray(values, dtype=float)[None, :], dims=("lat", "lon"), coords=COORDS)


def _series(values_by_year: np.ndarray, years) -> xr.DataArray:
    data = np.broadcast_to(np.asarray(values_by_year, float)[:, None, None], (len(years), 1, 4))
    return xr.DataArray(data.copy(), dims=("year", "lat", "lon"), coords={"year": list(years), **COORDS})


def test_tau_map_converts_kg_over_g_to_years_and_masks_nonpositive_flux():
    tau = tau_map(_row([10, 10, 10, 10]), _row([500, 0, -5, np.nan]))
    assert tau.values[0, 0] == pytest.approx(20.0)
    assert np.isnan(tau.values[0, 1:]).all()
    assert tau.attrs["units"] == "yr"


def test_tau_map_is_undefined_below_the_rh_floor_and_kept_from_it_on():
    """A6-c2: Rh 0.5 g C m-2 yr-1 (and 1e-3) gives no per-cell tau; Rh 1 and above does."""
    assert RH_FLOOR_FOR_TAU == 1.0
    tau = tau_map(_row([10, 10, 10, 10]), _row([0.5, 1e-3, 1.0, 2.0]))
    assert np.isnan(tau.values[0, :2]).all()
    assert tau.values[0, 2:] == pytest.approx([10_000.0, 5_000.0])


def test_the_floor_note_counts_the_compared_cells_left_out_and_their_area_share():
    compared = _row([1, 1, 1, 0]).astype(bool)
    area = _row([1, 2, 3, 4])
    # cell 1 is below the floor in the model, cell 3 in the observation but not compared
    note = tau_floor_note(compared, area, _row([50, 50, 50, 0.1]), _row([50, 0.5, 50, 50]))
    assert note == "tau undefined where rh < 1 g C m-2 yr-1: 1 cell (33 % of the area) left out"
    assert tau_floor_note(compared, area, _row([50, 50, 50, 0.1])) == ""


def test_global_tau_is_ratio_of_totals_over_cells_with_both():
    area = _row([1, 2, 3, 4])
    stock = _row([10, 20, 30, np.nan])  # kg C m-2
    flux = _row([100, 400, np.nan, 50])  # g C m-2 yr-1
    # only cells 0 and 1: (10*1 + 20*2) * 1000 / (100*1 + 400*2) = 50000 / 900
    assert float(ratio_of_totals(stock, flux, area)) == pytest.approx(50000 / 900)


def test_litterfall_is_fveglitter_when_present():
    years = range(2000, 2004)
    ds = xr.Dataset(
        {
            "fVegLitter": _series([300, 310, 320, 330], years),
            "npp": _series([900] * 4, years),
            "cVeg": _series([1, 2, 3, 4], years),
        }
    )
    assert litterfall(ds).values[:, 0, 0].tolist() == [300, 310, 320, 330]


def test_litterfall_without_fveglitter_is_npp_minus_dcveg_dt():
    years = range(2000, 2005)
    cveg = 4.0 + 0.1 * np.arange(5) ** 2  # kg C m-2; d/dt = 0.2 t (exact for central diffs)
    ds = xr.Dataset({"npp": _series([500] * 5, years), "cVeg": _series(cveg, years)})
    # central: 0.2 t * 1000 g; ends one-sided: (0.1 - 0) / 1, (1.6 - 0.9) / 1
    expected = 500 - 1000 * np.array([0.1, 0.2, 0.4, 0.6, 0.7])
    np.testing.assert_allclose(litterfall(ds).values[:, 0, 0], expected)


def test_time_derivative_works_on_dask_chunks_of_one_year():
    years = range(2000, 2011)
    series = _series(2.0 * np.arange(11.0), years).chunk({"year": 1})
    np.testing.assert_allclose(time_derivative(series).compute().values, 2.0)


def test_litterfall_without_any_source_raises_missing_variable_error():
    ds = xr.Dataset({"npp": _series([500, 500], range(2000, 2002))})
    with pytest.raises(MissingVariableError, match="fVegLitter"):
        litterfall(ds)


def test_tau_veg_with_and_without_fveglitter():
    years = range(1990, 2000)
    cveg = 5.0 + 0.05 * np.arange(10)  # grows 50 g C m-2 yr-1
    with_litter = xr.Dataset({"fVegLitter": _series([450] * 10, years), "cVeg": _series(cveg, years)})
    without = xr.Dataset({"npp": _series([500] * 10, years), "cVeg": _series(cveg, years)})
    area = _row([1, 1, 1, 1])
    mean_cveg = cveg.mean()  # 5.225
    for ds in (with_litter, without):
        tau = ratio_of_totals(ds["cVeg"].mean("year"), litterfall(ds).mean("year"), area)
        assert float(tau) == pytest.approx(mean_cveg * 1000 / 450)


def test_observed_tau_soil_uses_product_mean_and_sd_of_product_taus():
    products = xr.concat([_row([k] * 4) for k in (10.0, 20.0, 30.0)], dim="product")
    rh = _row([500, 500, 1000, 1000])
    area = _row([1, 1, 2, 2])
    obs = observed_tau_soil(products, rh, area)
    # product k: k * 6 * 1000 / (500*2 + 1000*4) = 1.2 k yr
    np.testing.assert_allclose(obs.per_product.values, [12.0, 24.0, 36.0])
    assert obs.global_value == pytest.approx(24.0)
    assert obs.global_sd == pytest.approx(12.0)  # sample SD of 12, 24, 36
    assert obs.map.values[0].tolist() == pytest.approx([40.0, 40.0, 20.0, 20.0])


def test_attribution_on_constructed_case():
    area = _row([1, 2, 3, 4])
    rh_obs, csoil_obs = _row([100] * 4), _row([10] * 4)
    rh_mod = _row([200, 100, 50, 100])  # cell 0: Rh doubled; cell 2: Rh halved
    csoil_mod = _row([10, 30, 15, 99])  # cell 1: cSoil tripled; cell 2: cSoil x1.5
    mask = _row([1, 1, 1, 0]).astype(bool)  # cell 3 outside the vegetated area
    result = attribute_tau_bias(csoil_mod, rh_mod, csoil_obs, rh_obs, area, mask)
    maps = result.maps
    np.testing.assert_allclose(maps["bias_from_rh_pct"].values[0, :3], [-50, 0, 100])
    np.testing.assert_allclose(maps["bias_from_csoil_pct"].values[0, :3], [0, 200, 50])
    np.testing.assert_allclose(maps["tau_bias_pct"].values[0, :3], [-50, 200, 200])
    assert maps["attribution"].values[0, :3].tolist() == [
        RH_DOMINATED,
        CSOIL_DOMINATED,
        RH_DOMINATED,
    ]
    assert np.isnan(maps["attribution"].values[0, 3])
    s = result.summary
    assert s["rh_dominated_area_pct"] == pytest.approx(100 * 4 / 6)
    assert s["bias_from_rh_pct"] == pytest.approx(100 * (600 / 550 - 1))
    assert s["bias_from_csoil_pct"] == pytest.approx(100 * (115 / 60 - 1))
    assert s["tau_bias_pct"] == pytest.approx(100 * ((115e3 / 550) / (60e3 / 600) - 1))
    # area-weighted correlation of Rh deviations [100, 0, -50] with tau deviations
    w = np.array([1, 2, 3]) / 6
    x, y = np.array([100.0, 0, -50]), np.array([-50.0, 200, 200])
    dx, dy = x - w @ x, y - w @ y
    r = (w @ (dx * dy)) / np.sqrt((w @ dx**2) * (w @ dy**2))
    assert s["corr_rh_dev_tau_dev"] == pytest.approx(r)
    assert r == pytest.approx(-0.90795, abs=1e-4)
    assert s["area_m2"] == 6


def test_tie_counts_as_csoil_dominated_and_empty_mask_gives_nan():
    area = _row([1, 1, 1, 1])
    obs_rh, obs_c = _row([100] * 4), _row([10] * 4)
    # Rh-only bias 100/125 - 1 = -20 %; cSoil-only bias 8/10 - 1 = -20 %: a tie
    tie = attribute_tau_bias(_row([8] * 4), _row([125] * 4), obs_c, obs_rh, area)
    assert (tie.maps["attribution"] == CSOIL_DOMINATED).all()
    assert tie.summary["rh_dominated_area_pct"] == 0.0
    empty = attribute_tau_bias(_row([8] * 4), _row([125] * 4), obs_c, obs_rh, area, mask=_row([0] * 4).astype(bool))
    assert np.isnan(empty.summary["rh_dominated_area_pct"])
