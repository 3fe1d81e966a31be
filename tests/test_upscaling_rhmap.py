"""Totals of the RF ensemble map: cell area x land fraction, and the SD of the members' totals."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench.upscaling import rhmap
from rhbench.upscaling.stack import PredictorStack

R_KM = 6371.007181


def _stack(lat, lon) -> PredictorStack:
    veg = np.array([[1, 2], [2, 1]], dtype=float)
    layers = xr.Dataset(
        {"tas": (("lat", "lon"), np.ones((2, 2))), "vegclass": (("lat", "lon"), veg)},
        coords={"lat": lat, "lon": lon},
    )
    return PredictorStack(layers, {"vegclass": {1: "ENF", 2: "Crop"}}, {"synthetic": "true"})


def test_totals_match_a_hand_calculation_with_land_fraction_and_member_sd():
    # two 10-degree rows (15-25 N, 25-35 N) x two 10-degree columns
    lat, lon = np.array([20.0, 30.0]), np.array([0.0, 10.0])
    stack = _stack(lat, lon)
    members = np.array(
        [
            [[100.0, 200.0], [50.0, np.nan]],
            [[120.0, 180.0], [70.0, np.nan]],
            [[110.0, 220.0], [30.0, np.nan]],
        ]
    )
    fraction = xr.DataArray([[1.0, 0.5], [0.25, 1.0]], dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    area = rhmap.land_area(lat, lon, fraction)
    # hand: cell area = R^2 * dlon * (sin(north) - sin(south)), m2
    dlon = np.deg2rad(10.0)
    band = [np.sin(np.deg2rad(25)) - np.sin(np.deg2rad(15)), np.sin(np.deg2rad(35)) - np.sin(np.deg2rad(25))]
    cell = (R_KM * 1e3) ** 2 * dlon * np.array(band)
    hand_area = np.array([[cell[0] * 1.0, cell[0] * 0.5], [cell[1] * 0.25, cell[1] * 1.0]])
    np.testing.assert_allclose(area.values, hand_area, rtol=1e-12)
    totals = rhmap.regional_totals(members, area, rhmap.region_masks(stack)).set_index("region")
    member_totals = [
        (m[0, 0] * hand_area[0, 0] + m[0, 1] * hand_area[0, 1] + m[1, 0] * hand_area[1, 0]) / 1e15 for m in members
    ]
    assert totals.loc["global", "total_PgC_per_yr"] == pytest.approx(np.mean(member_totals), rel=1e-12)
    assert totals.loc["global", "sd_PgC_per_yr"] == pytest.approx(np.std(member_totals, ddof=1), rel=1e-12)
    # zones by |lat|: the 20 N row is tropical (< 23.5), the 30 N row temperate, no boreal
    tropical = [(m[0, 0] * hand_area[0, 0] + m[0, 1] * hand_area[0, 1]) / 1e15 for m in members]
    assert totals.loc["tropical", "total_PgC_per_yr"] == pytest.approx(np.mean(tropical), rel=1e-12)
    assert totals.loc["temperate", "total_PgC_per_yr"] == pytest.approx(
        np.mean([m[1, 0] for m in members]) * hand_area[1, 0] / 1e15
    )
    assert totals.loc["boreal", "total_PgC_per_yr"] == 0.0
    # vegetation classes: ENF = cells (0,0) and (1,1, NaN); Crop = (0,1) and (1,0)
    enf = [m[0, 0] * hand_area[0, 0] / 1e15 for m in members]
    assert totals.loc["ENF", "total_PgC_per_yr"] == pytest.approx(np.mean(enf), rel=1e-12)
    assert totals.loc["ENF", "n_cells"] == 1
    parts = totals.loc[["ENF", "Crop"], "total_PgC_per_yr"].sum()
    assert parts == pytest.approx(totals.loc["global", "total_PgC_per_yr"], rel=1e-12)


def test_sd_of_totals_is_not_the_total_of_the_per_cell_sd():
    # members that trade Rh between cells have almost the same total: the ensemble SD of
    # the total is ~0 while the per-cell SD map, totalled, is large (the old rh_global_sd)
    lat, lon = np.array([-5.0, 5.0]), np.array([0.0, 10.0])
    stack = _stack(lat, lon)
    area = rhmap.land_area(lat, lon, None)
    a = area.values
    high, low = 300.0, 100.0
    first = np.array([[high, low], [np.nan, np.nan]])
    # second member: swap the cells' values, scaled so the area-weighted sums are equal
    second = np.array([[low * a[0, 1] / a[0, 0], high * a[0, 0] / a[0, 1]], [np.nan, np.nan]])
    members = np.stack([first, second])
    totals = rhmap.regional_totals(members, area, rhmap.region_masks(stack)).set_index("region")
    assert totals.loc["global", "sd_PgC_per_yr"] == pytest.approx(0.0, abs=1e-9)
    per_cell_sd = np.std(members, axis=0, ddof=1)
    summed = np.nansum(per_cell_sd * a) / 1e15
    assert summed > 0.3  # Pg C yr-1: what summing per-cell SDs would have reported
    ds = rhmap.product_dataset(members, stack, area, "none", totals.reset_index(), {"data_label": "SYNTHETIC"})
    assert ds.attrs["global_total_sd_PgC_per_yr"] == pytest.approx(0.0, abs=1e-9)
    assert ds["rh_global_member"].values == pytest.approx([totals.loc["global", "total_PgC_per_yr"]] * 2)
    assert ds["lat"].attrs["bounds"] == "lat_bnds" and ds["lat_bnds"].values.tolist() == [[-10.0, 0.0], [0.0, 10.0]]


def test_land_area_without_a_land_fraction_is_the_sphere_cell_area():
    lat, lon = np.arange(-89.75, 90, 0.5), np.arange(-179.75, 180, 0.5)
    area = rhmap.land_area(lat, lon, None)
    assert float(area.sum()) == pytest.approx(4 * np.pi * (R_KM * 1e3) ** 2, rel=1e-9)


def test_vegetation_class_totals_come_from_a_class_map_when_the_stack_has_none():
    lat, lon = np.array([20.0, 30.0]), np.array([0.0, 10.0])
    layers = xr.Dataset({"tas": (("lat", "lon"), np.ones((2, 2)))}, coords={"lat": lat, "lon": lon})
    stack = PredictorStack(layers, {}, {})
    # a coarser 20-degree class map: one cell (ENF) over the first row, Crop over the second;
    # code 0 ("none") is not a class of the paper and gives no region
    classes = xr.DataArray(
        [[1], [9]],
        dims=("lat", "lon"),
        coords={"lat": [19.0, 31.0], "lon": [5.0]},
        attrs={
            "flag_values": list(range(11)),
            "flag_meanings": "none ENF EBF DNF DBF MF Shrub Savanna Grassland Crop Tundra",
        },
    )
    members = np.array([[[100.0, 200.0], [50.0, 10.0]], [[110.0, 190.0], [60.0, 20.0]]])
    area = rhmap.land_area(lat, lon, None)
    totals = rhmap.regional_totals(members, area, rhmap.region_masks(stack, classes)).set_index("region")
    enf = [(m[0] * area.values[0]).sum() / 1e15 for m in members]
    crop = [(m[1] * area.values[1]).sum() / 1e15 for m in members]
    assert totals.loc["ENF", "region_kind"] == "vegetation class"
    assert totals.loc["ENF", "total_PgC_per_yr"] == pytest.approx(np.mean(enf), rel=1e-12)
    assert totals.loc["Crop", "sd_PgC_per_yr"] == pytest.approx(np.std(crop, ddof=1), rel=1e-12)
    assert "none" not in totals.index and totals.loc["EBF", "n_cells"] == 0


def test_a_land_fraction_on_another_grid_is_matched_for_every_cell_never_partly(caplog):
    """A 1.5 degree land fraction under a 0.5 degree stack: every cell takes its nearest
    land-fraction cell (all land here), never sea for the cells a tolerance match missed."""
    lat, lon = np.arange(-89.75, 90.0, 0.5), np.arange(-179.75, 180.0, 0.5)
    coarse_lon = np.arange(-179.25, 180.0, 1.5)  # every third 0.5 degree centre
    fraction = xr.DataArray(
        np.ones((lat.size, coarse_lon.size)), dims=("lat", "lon"), coords={"lat": lat, "lon": coarse_lon}
    )
    with caplog.at_level("WARNING"):
        area = rhmap.land_area(lat, lon, fraction, source="lf.nc")
    sphere = rhmap.land_area(lat, lon, None)
    np.testing.assert_allclose(area.values, sphere.values, rtol=1e-12)  # was one third of the land
    assert "lf.nc is on another grid" in caplog.text and "720 lon values, expected" not in caplog.text


def test_a_descending_land_fraction_on_the_same_grid_is_used_cell_for_cell():
    lat, lon = np.array([-45.0, 45.0]), np.array([-90.0, 90.0])
    values = np.array([[0.25, 0.5], [0.75, 1.0]])  # rows south, north
    fraction = xr.DataArray(values[::-1], dims=("lat", "lon"), coords={"lat": lat[::-1], "lon": lon})
    area = rhmap.land_area(lat, lon, fraction)
    np.testing.assert_allclose(area.values, rhmap.land_area(lat, lon, None).values * values, rtol=1e-12)
