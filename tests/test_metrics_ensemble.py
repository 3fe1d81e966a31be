"""Ensemble mean +- SD rows, ensemble-mean maps and the ensemble attribution (hand values)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import xarray as xr

from rhbench.metrics.ensemble import (
    ENSEMBLE,
    ENSEMBLE_SD,
    ensemble_maps,
    ensemble_rows,
    observation_products,
    rh_dominated_share,
    with_ensemble_maps,
)
from rhbench.results import ScoreRow


def test_ensemble_rows_are_mean_and_sample_sd_of_ok_dgvm_rows():
    rows = [
        ScoreRow("A", "dgvm", "rh_global", "global", "Pg C yr-1", 50.0),
        ScoreRow("B", "dgvm", "rh_global", "global", "Pg C yr-1", 60.0),
        ScoreRow("C", "dgvm", "rh_global", "global", "Pg C yr-1", 70.0),
        ScoreRow("D", "dgvm", "rh_global", "global", "Pg C yr-1", float("nan"), "failed", "broken"),
        ScoreRow("obs", "reference", "rh_global", "global", "Pg C yr-1", 48.8),
        ScoreRow("A", "dgvm", "tau_soil", "ENF", "yr", 20.0),
    ]
    out = {(r.source, r.metric, r.region): r for r in ensemble_rows(rows)}
    assert out[ENSEMBLE, "rh_global", "global"].value == pytest.approx(60.0)
    assert out[ENSEMBLE_SD, "rh_global", "global"].value == pytest.approx(10.0)  # sqrt((100+0+100)/2)
    assert out[ENSEMBLE, "rh_global", "global"].units == "Pg C yr-1"
    assert out[ENSEMBLE, "tau_soil", "ENF"].value == 20.0
    assert out[ENSEMBLE_SD, "tau_soil", "ENF"].status == "skipped"


def _grid(values) -> xr.DataArray:
    return xr.DataArray(
        np.asarray(values, float), dims=("lat", "lon"), coords={"lat": [-10.0, 10.0], "lon": [0.0, 1.0]}
    )


def test_ensemble_maps_average_rh_and_csoil_then_attribute_like_one_model():
    obs_rh, obs_csoil = _grid([[100, 100], [100, 100]]), _grid([[10, 10], [10, 10]])  # tau_obs 100 yr
    area = _grid([[1, 1], [1, 2]])
    # model A: Rh 200 everywhere, cSoil 10 (tau 50); model B: Rh 200, cSoil 2 in cell (1, 1)
    rh = np.stack([np.full((2, 2), 200.0), np.full((2, 2), 200.0)])
    csoil = np.stack([np.full((2, 2), 10.0), np.array([[10.0, 10.0], [10.0, 2.0]])])
    maps = xr.Dataset(
        {"rh": (("source", "lat", "lon"), rh), "tau_soil": (("source", "lat", "lon"), 1000 * csoil / rh)},
        coords={"source": ["A", "B"], "kind": ("source", ["dgvm", "dgvm"]), **obs_rh.coords},
    )
    fields, summary = ensemble_maps(maps, obs_csoil, obs_rh, area, _grid([[1, 1], [1, 1]]).astype(bool))
    # mean cSoil: 10, 10, 10, 6; Rh 200: tau 50, 50, 50, 30 yr
    np.testing.assert_allclose(fields["tau_soil"], [[50, 50], [50, 30]])
    np.testing.assert_allclose(fields["tau_bias"], [[-50, -50], [-50, -70]])
    # bias from Rh alone: 100 (100/200 - 1) = -50 %; from cSoil: 0, 0, 0, -40 %: Rh dominates everywhere
    assert summary["rh_dominated_area_pct"] == pytest.approx(100.0)
    assert rh_dominated_share(fields["attribution"], area) == pytest.approx(100.0)
    # totals: Rh_obs 500 / Rh_mod 1000; cSoil_mod (10+10+10+12) / cSoil_obs 50 = 0.84
    assert summary["tau_bias_pct"] == pytest.approx(100 * (0.84 * 0.5 - 1))
    merged = with_ensemble_maps(maps, fields)
    assert list(merged["source"].values) == ["A", "B", ENSEMBLE]
    assert merged["kind"].values[-1] == "ensemble"


def test_rh_dominated_share_weights_cells_by_area():
    attribution = _grid([[1, 2], [1, np.nan]])
    area = _grid([[1, 3], [2, 100]])
    assert rh_dominated_share(attribution, area) == pytest.approx(100 * 3 / 6)


def test_observation_products_zonal_mean_is_area_weighted_per_product():
    products = xr.concat([_grid([[1, 3], [5, np.nan]]), _grid([[2, 2], [2, 2]])], dim="product")
    products = products.assign_coords(product=["P1", "P2"])
    area = _grid([[1, 3], [1, 1]])
    out = observation_products(products, None, area, _grid([[1, 1], [1, 1]]).astype(bool))
    assert float(out["csoil_zonal"].sel(product="P1", lat=-10.0)) == pytest.approx((1 * 1 + 3 * 3) / 4)
    assert float(out["csoil_zonal"].sel(product="P1", lat=10.0)) == pytest.approx(5.0)
    assert "rh_sd" not in out
    assert math.isclose(float(out["csoil_zonal"].sel(product="P2", lat=10.0)), 2.0)
