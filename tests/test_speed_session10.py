"""Session 10 cuts of the steady compute (issue 18): each gives exactly what the xarray code it
replaced gave (values bit for bit, dtypes, attributes, coordinates), on hostile fields."""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import pytest
import xarray as xr

from rhbench import landfrac
from rhbench.metrics import ensemble, ensemble_arrays
from rhbench.metrics import fields as fields_module
from rhbench.metrics.fields import source_maps, zonal_profiles
from rhbench.metrics.reference import Reference
from rhbench.metrics.taylor import taylor_statistics, weighted_sd
from rhbench.metrics.totals import zonal_profile
from rhbench.metrics.turnover import (
    TauBiasAttribution,
    attribute_tau_bias,
    tau_floor_note,
    tau_floor_note_values,
    tau_map,
)
from rhbench.vegclass import CLASS_NAMES


def _grid(step: float = 10.0) -> dict:
    lat = np.arange(-90 + step / 2, 90, step)
    lon = np.arange(-180 + step / 2, 180, step)
    return {"lat": lat, "lon": lon}


def _hostile(
    rng: np.random.Generator, coords: dict, *, dtype=np.float64, low=-2.0, high=600.0, attrs=None
) -> xr.DataArray:
    """A (lat, lon) map with NaNs, values below the Rh floor, zeros and negatives."""
    shape = (coords["lat"].size, coords["lon"].size)
    values = rng.uniform(low, high, shape)
    values[rng.random(shape) < 0.3] = np.nan
    values[rng.random(shape) < 0.05] = 0.0
    values[rng.random(shape) < 0.05] = 0.5  # below the 1 g C m-2 yr-1 floor of tau_map
    return xr.DataArray(values.astype(dtype), dims=("lat", "lon"), coords=coords, attrs=attrs or {})


def _reference(seed: int = 0, *, with_csoil: bool = True) -> Reference:
    rng = np.random.default_rng(seed)
    coords = _grid()
    rh = _hostile(rng, coords, dtype=np.float32, attrs={"units": "g C m-2 yr-1", "long_name": "Rh", "source": "ref"})
    rh.coords["lat"].attrs.update(units="degrees_north", standard_name="latitude")
    area = xr.DataArray(rng.uniform(0.0, 1e10, rh.shape), dims=("lat", "lon"), coords=coords)
    area.values[0, :3] = 0.0
    csoil = _hostile(rng, coords, low=0.0, high=40.0) if with_csoil else xr.full_like(area, np.nan)
    vegclass = xr.DataArray(rng.integers(0, 7, rh.shape).astype(float), dims=("lat", "lon"), coords=coords)
    return Reference(rh=rh, csoil_products=csoil.expand_dims(product=["a"]), area=area, vegclass=vegclass)


@pytest.mark.parametrize("band_width", [10.0, 15.0, 30.0])
@pytest.mark.parametrize("with_classes", [True, False])
def test_region_names_are_those_of_the_stacked_masks(band_width, with_classes):
    ref = _reference()
    ref = Reference(
        rh=ref.rh,
        csoil_products=ref.csoil_products,
        area=ref.area,
        vegclass=ref.vegclass if with_classes else None,
        band_width=band_width,
    )
    names = ref.region_names
    assert names == [str(r) for r in ref.regions["region"].values]
    assert len(names) == 1 + round(180 / band_width) + 3 + (len(CLASS_NAMES) if with_classes else 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_sd_is_the_taylor_sd_bit_for_bit(seed):
    ref = _reference(seed)
    field = ref.rh_land.where(ref.vegetated_mask)
    expected = taylor_statistics(field, field, ref.area)["sd_ref"]
    got = weighted_sd(field.values, ref.area.values)
    assert got == expected and np.isfinite(got)
    one_cell = np.full(field.shape, np.nan)
    one_cell[3, 4] = 7.0
    assert weighted_sd(one_cell, ref.area.values) == 0.0  # one cell: no spread, as taylor_statistics
    assert np.isnan(weighted_sd(np.full(field.shape, np.nan), ref.area.values))  # no cell at all


def test_floor_note_on_arrays_is_the_xarray_note():
    ref = _reference(3)
    rh = ref.rh_land
    compared = ref.vegetated_mask & ref.csoil.notnull() & rh.notnull()
    expected = tau_floor_note(compared, ref.area, rh)
    assert "left out" in expected
    got = tau_floor_note_values(compared.values, ref.area.values, rh.values)
    assert got == expected
    assert tau_floor_note_values(compared.values, ref.area.values, np.full(rh.shape, 5.0)) == ""


def _maps_inputs(seed: int, *, with_csoil: bool = True):
    """The reference and three sources (float32 and float64 maps, missing fields, other attributes)."""
    rng = np.random.default_rng(seed)
    ref = _reference(seed, with_csoil=with_csoil)
    coords = _grid()
    a = {"rh": _hostile(rng, coords, attrs={"units": "g C m-2 yr-1", "long_name": "other"})}
    a["csoil"] = _hostile(rng, coords, dtype=np.float32, low=0.0, high=30.0, attrs={"units": "kg C m-2"})
    a |= {"cveg": _hostile(rng, coords, low=0.0, high=10.0), "litterfall": _hostile(rng, coords)}
    b = {"rh": _hostile(rng, coords, dtype=np.float32)}  # an Rh product: no stock
    c = {"csoil": _hostile(rng, coords, low=0.0, high=30.0)}  # a DGVM without Rh
    fields = {ref.name: {"rh": ref.rh_land, "csoil": ref.csoil}, "A": a, "B": b, "C": c}
    tau_a = {"rh": _hostile(rng, coords), "csoil": a["csoil"], "cveg": a["cveg"], "litterfall": a["litterfall"]}
    tau_fields = {ref.name: fields[ref.name], "A": tau_a}
    kinds = {ref.name: "reference", "A": "dgvm", "B": "rh", "C": "dgvm"}
    attribution = attribute_tau_bias(a["csoil"], a["rh"], ref.csoil, ref.rh_land, ref.area, ref.vegetated_mask)
    return fields, tau_fields, kinds, {"A": attribution}, ref


def _maps_by_xarray(fields, tau_fields, kinds, attributions: dict[str, TauBiasAttribution], ref):
    """The former :func:`rhbench.metrics.fields.source_maps` (xarray's arithmetic, one Dataset per source)."""
    nan = xr.full_like(ref.rh_land, np.nan)
    per_source = []
    for name, found in fields.items():
        rh = found.get("rh", nan)
        both = tau_fields.get(name, found)
        tau = tau_map(both["csoil"], both["rh"]) if "csoil" in both and "rh" in both else nan
        tau_veg = tau_map(both["cveg"], both["litterfall"]) if "cveg" in both and "litterfall" in both else nan
        attribution = attributions[name].maps["attribution"] if name in attributions else nan
        maps = {"rh": rh, "tau_soil": tau, "rh_bias": rh - ref.rh_land, "tau_bias": tau - ref.tau_soil}
        per_source.append(xr.Dataset(maps | {"attribution": attribution, "tau_veg": tau_veg}).astype(np.float32))
    maps = xr.concat(per_source, dim="source", coords="minimal", compat="override")
    maps = maps.assign_coords(source=list(fields), kind=("source", [kinds[n] for n in fields]))
    for name, unit in fields_module.MAP_UNITS.items():
        maps[name].attrs.update(units=unit)
    return maps


def _assert_same_dataset(got: xr.Dataset, expected: xr.Dataset) -> None:
    xr.testing.assert_identical(got, expected)  # values (NaN where NaN), attributes, coordinates
    assert list(got.variables) == list(expected.variables)  # (the order results.nc writes them in)
    assert all(list(got[v].attrs) == list(expected[v].attrs) for v in expected.variables)
    for name in expected.variables:
        assert got[name].dtype == expected[name].dtype, name
        assert got[name].dims == expected[name].dims, name
        if got[name].dtype.kind == "f":
            assert np.array_equal(got[name].values, expected[name].values, equal_nan=True), name


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("with_csoil", [True, False])
@pytest.mark.parametrize("model_first", [False, True])  # the first source's attributes are the output's
def test_maps_on_arrays_are_those_of_xarray_arithmetic(seed, with_csoil, model_first, monkeypatch):
    fields, tau_fields, kinds, attributions, ref = _maps_inputs(seed, with_csoil=with_csoil)
    if model_first:
        fields = {"A": fields["A"], **fields}
    inputs = (fields, tau_fields, kinds, attributions, ref)
    expected = _maps_by_xarray(*inputs)
    assert int(expected["tau_bias"].notnull().sum()) > 0 or not with_csoil
    monkeypatch.setattr(fields_module, "_concatenated_maps", lambda *a: pytest.fail("the numpy path was not taken"))
    _assert_same_dataset(source_maps(*inputs), expected)


def test_maps_of_fields_on_another_grid_or_with_other_coordinates_take_the_xarray_path(monkeypatch):
    fields, tau_fields, kinds, attributions, ref = _maps_inputs(4)
    fields["B"] = {"rh": fields["B"]["rh"].assign_coords(height=2.0)}  # a scalar coordinate the maps keep
    expected = _maps_by_xarray(fields, tau_fields, kinds, attributions, ref)
    assert "height" in expected.coords
    called = []
    real = fields_module._concatenated_maps
    monkeypatch.setattr(fields_module, "_concatenated_maps", lambda *a: called.append(1) or real(*a))
    _assert_same_dataset(source_maps(fields, tau_fields, kinds, attributions, ref), expected)
    assert called


def _zonal_by_xarray(fields, tau_fields, kinds, ref):
    """The former :func:`rhbench.metrics.fields.zonal_profiles` (one Dataset per source, concatenated)."""
    per_source = []
    nan = xr.full_like(ref.rh["lat"], np.nan, dtype=float)
    for name, found in fields.items():
        zonal = {"rh": nan, "csoil": nan}
        if found.get("rh") is not None:
            zonal["rh"] = zonal_profile(found["rh"], ref.area)
        if found.get("csoil") is not None:
            zonal["csoil"] = zonal_profile(found["csoil"], ref.area)
        both = tau_fields.get(name, found)
        for tau, stock, flux in (("tau_soil", "csoil", "rh"), ("tau_veg", "cveg", "litterfall")):
            zonal[tau] = fields_module._zonal_ratio(both.get(stock), both.get(flux), ref.area) if stock in both else nan
        per_source.append(xr.Dataset(zonal))
    out = xr.concat(per_source, dim="source", coords="minimal", compat="override")
    out = out.assign_coords(source=list(fields), kind=("source", [kinds[n] for n in fields]))
    for name, unit in fields_module.ZONAL_UNITS.items():
        out[name].attrs.update(units=unit)
    return out


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("first", ["observations", "A", "C"])  # the first source's attributes are the output's
def test_zonal_profiles_on_arrays_are_those_of_xarray(seed, first, monkeypatch):
    fields, tau_fields, kinds, _, ref = _maps_inputs(seed)
    fields = {first: fields[first], **fields}
    tau_fields["C"] = {"csoil": fields["C"]["csoil"]}  # a stock without a flux: an all-NaN ratio
    expected = _zonal_by_xarray(fields, tau_fields, kinds, ref)
    calls = []
    real_ratio = fields_module._zonal_ratio
    monkeypatch.setattr(fields_module, "_zonal_ratio", lambda *a: calls.append(1) or real_ratio(*a))
    got = zonal_profiles(fields, tau_fields, kinds, ref)
    assert not calls  # the numpy path
    _assert_same_dataset(got, expected)
    assert np.isfinite(got["tau_soil"].values).any() and np.isfinite(got["tau_veg"].values).any()


def _ensemble_inputs(seed: int, *, with_csoil: bool = True):
    """Maps of the reference and four sources (three DGVMs: A with its own tau fields, C without Rh, D
    without its own tau fields, float32) and the DGVMs' tau fields."""
    fields, tau_fields, kinds, attributions, ref = _maps_inputs(seed, with_csoil=with_csoil)
    rng = np.random.default_rng(seed + 100)
    coords = _grid()
    fields["D"] = {
        key: _hostile(rng, coords, dtype=np.float32, low=0.0) for key in ("rh", "csoil", "cveg", "litterfall")
    }
    kinds["D"] = "dgvm"
    maps = source_maps(fields, tau_fields, kinds, attributions, ref)
    own = {name: tau_fields.get(name, fields[name]) for name in ("A", "C", "D")}
    own["C"] = {**own["C"], "rh": _hostile(rng, coords)}  # every member with its own Rh and cSoil, as in a run
    return maps, own, ref


def _summary_equal(got: dict, expected: dict) -> bool:
    return got.keys() == expected.keys() and all(
        got[k] == expected[k] or (np.isnan(got[k]) and np.isnan(expected[k])) for k in expected
    )


@pytest.mark.parametrize("own_fields", [True, False])  # the pipeline's (every DGVM's), or recovered from the maps
@pytest.mark.parametrize(
    "members, rh_members, veg_members",
    [(None, None, None), ({"A", "D"}, {"A", "C", "D"}, {"A"}), ({"D"}, {"D"}, {"D"}), (set(), set(), set())],
)
def test_ensemble_maps_on_arrays_are_the_xarray_ones(own_fields, members, rh_members, veg_members, monkeypatch):
    maps, tau_fields, ref = _ensemble_inputs(0)
    tau_fields = tau_fields if own_fields else {}
    observed = (ref.csoil, ref.rh_land, ref.area, ref.vegetated_mask)
    chosen = {"tau_fields": tau_fields, "rh_members": rh_members, "veg_members": veg_members}
    years = {"rh_years": "1982-2018", "tau_soil_years": "A: 1990-2018"}
    maps = maps.assign_coords(
        rh_years=("source", ["1982-2018"] * maps.sizes["source"]), tau_soil_years=("source", ["x"] * 5)
    )
    got, got_summary = ensemble.ensemble_maps(maps, *observed, members, **chosen)
    merged = ensemble.with_ensemble_maps(maps, got, years)
    monkeypatch.setattr(ensemble_arrays, "plain_maps", lambda *a: False)  # the xarray path
    monkeypatch.setattr(ensemble_arrays, "appended", lambda *a: None)
    expected, expected_summary = ensemble.ensemble_maps(maps, *observed, members, **chosen)
    assert list(got.data_vars) == list(expected.data_vars)
    for name in expected.data_vars:
        assert got[name].dtype == expected[name].dtype and got[name].dims == expected[name].dims, name
        assert np.array_equal(got[name].values, expected[name].values, equal_nan=True), name
    assert _summary_equal(got_summary, expected_summary)
    _assert_same_dataset(merged, ensemble.with_ensemble_maps(maps, expected, years))
    if members and "C" not in rh_members:  # (C has no Rh map: the mean over it is NaN everywhere)
        assert np.isfinite(got["rh"].values).any() and np.isfinite(got["tau_soil"].values).any()


def test_ensemble_maps_of_maps_with_other_coordinates_take_the_xarray_path(monkeypatch):
    maps, tau_fields, ref = _ensemble_inputs(5)
    maps = maps.assign_coords(height=2.0)
    called = []
    observed = (ref.csoil, ref.rh_land, ref.area, ref.vegetated_mask)
    real = ensemble._tau_members
    monkeypatch.setattr(ensemble, "_tau_members", lambda *a: called.append(1) or real(*a))
    fields, _ = ensemble.ensemble_maps(
        maps, ref.csoil, ref.rh_land, ref.area, ref.vegetated_mask, tau_fields=tau_fields
    )
    assert not called  # a scalar coordinate on the maps does not stop the array path
    other = {**tau_fields, "A": {**tau_fields["A"], "rh": tau_fields["A"]["rh"].assign_coords(lat=ref.rh["lat"] + 1)}}
    ensemble.ensemble_maps(maps, *observed, tau_fields=other)
    assert called  # a member's field on another grid does


def _written_by_xarray(var: xr.DataArray) -> tuple[np.ndarray, np.ndarray]:
    """The former expressions of :meth:`rhbench.landfrac.CellMeasures.resolved`."""
    dims = [d for d in ("year", "time") if d in var.dims]
    present = (var.notnull() & (var != 0)).any(dims) if dims else var.notnull() & (var != 0)
    has = var.notnull().any(dims) if dims else var.notnull()
    return present.transpose("lat", "lon").values, has.transpose("lat", "lon").values


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
@pytest.mark.parametrize("dims", [("year", "lat", "lon"), ("lat", "year", "lon"), ("lat", "lon")])
def test_written_cells_in_one_pass_are_those_of_the_xarray_expressions(dtype, dims):
    rng = np.random.default_rng(7)
    sizes = {"year": 5, "lat": 6, "lon": 7}
    values = rng.integers(-2, 3, [sizes[d] for d in dims]).astype(float)  # many zeros
    values[rng.random(values.shape) < 0.4] = np.nan
    values.flat[:3] = -0.0  # a negative zero is a zero
    if np.issubdtype(dtype, np.integer):
        values = np.nan_to_num(values)
    var = xr.DataArray(values.astype(dtype), dims=dims)
    layout = [d for d in ("year",) if d in dims]
    got = landfrac._written_cells(np.asarray(var.transpose(*layout, "lat", "lon").values))
    expected = _written_by_xarray(var)
    for a, b in zip(got, expected, strict=True):
        assert a.dtype == bool and np.array_equal(a, b)
    assert expected[1].any() and not expected[0].all()  # some written cells, some without a non-zero value


def test_resolved_land_is_that_of_the_xarray_expressions():
    rng = np.random.default_rng(8)
    coords = _grid(30.0)
    shape = (coords["lat"].size, coords["lon"].size)
    series = rng.uniform(0, 5, (4, *shape))
    series[:, :2] = np.nan  # never written
    series[:, 2] = 0.0  # the ocean written as 0
    series[1:, 3] = np.nan  # one year only
    static = np.where(rng.random(shape) < 0.3, 1.0, np.nan)
    monthly = np.where(rng.random((3, *shape)) < 0.2, 2.0, np.nan)  # a "time" axis
    static[2:4], monthly[:, 2:4] = np.nan, np.nan  # rows 2 and 3: rh's alone
    fields = xr.Dataset(
        {
            "rh": (("year", "lat", "lon"), series.astype(np.float32)),
            "cSoil": (("lat", "lon"), static),
            "monthly": (("lat", "time", "lon"), monthly.transpose(1, 0, 2)),
        },
        coords=coords,
    )
    area = xr.DataArray(np.ones(shape), dims=("lat", "lon"), coords=coords)
    land = landfrac.CellMeasures(area, None, "test").resolved(fields).land
    present = np.zeros(shape, dtype=bool)
    for name in ("rh", "cSoil"):
        present |= _written_by_xarray(fields[name])[0]
    present |= _written_by_xarray(fields["monthly"])[0]
    np.testing.assert_array_equal(land.values, present.astype(float))
    assert land.values[2].sum() == 0 and land.values[3].all()


def _regions_before(like: xr.DataArray, vegclass, band_width: float) -> xr.DataArray:
    """The former :func:`rhbench.metrics.native._build_regions` (xarray masks, stacked)."""
    from rhbench import grid
    from rhbench.metrics.totals import climate_zone_masks, latitude_band_masks
    from rhbench.vegclass import class_masks

    lat, lon = like["lat"], like["lon"]
    masks = {"global": xr.ones_like(lat * lon, dtype=bool).transpose("lat", "lon")}
    masks |= latitude_band_masks(lat, lon, width=band_width)
    masks |= climate_zone_masks(lat, lon)
    if vegclass is not None:
        target = xr.Dataset(coords={"lat": lat.values, "lon": lon.values})
        masks |= class_masks(grid.regrid_nearest(vegclass, target))
    values = np.stack([np.asarray(v.transpose("lat", "lon").values, dtype=bool) for v in masks.values()])
    coords = {"region": list(masks), "lat": lat.values, "lon": lon.values}
    return xr.DataArray(values, dims=("region", "lat", "lon"), coords=coords, name="region_mask")


@pytest.mark.parametrize("step", [0.5, 7.5, 23.5])  # 23.5: cell centres on the zone and band edges' sides
@pytest.mark.parametrize("band_width", [10.0, 30.0])
@pytest.mark.parametrize("with_classes", [False, True])
def test_native_regions_written_at_once_are_the_stacked_xarray_masks(step, band_width, with_classes):
    from rhbench.metrics.native import _build_regions

    lat = np.arange(-90 + step / 2, 90, step)
    lat = np.append(lat, [90.0, -23.5, 23.5, 50.0, -50.0])  # edges themselves: inclusive / exclusive sides
    lon = np.arange(-180 + step / 2, 180, step)
    like = xr.DataArray(np.zeros((lat.size, lon.size)), dims=("lat", "lon"), coords={"lat": lat, "lon": lon})
    vegclass = None
    if with_classes:
        ref = _reference(3)
        vegclass = ref.vegclass
    got = _build_regions(like, vegclass, band_width)
    expected = _regions_before(like, vegclass, band_width)
    xr.testing.assert_identical(got, expected)
    assert got.dtype == bool and got.name == expected.name
    assert got.values.any(axis=(1, 2)).sum() > 3


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bias_score_of_two_maps_on_arrays_is_that_of_the_score_map(seed):
    from rhbench.metrics import ilamb

    rng = np.random.default_rng(seed)
    ref = _reference(seed)
    model = _hostile(rng, _grid(), dtype=np.float64)
    expected = ilamb._area_mean(ilamb.bias_score_map(ref.rh_land, model), ref.area)
    got = ilamb.bias_score(ref.rh_land, model, ref.area)
    assert got == expected and 0 < got < 1
    shifted = model.assign_coords(lon=model["lon"] + 0.5)  # another grid: xarray's alignment says so
    with pytest.raises(Exception, match="same grid"):
        ilamb.bias_score(ref.rh_land, shifted, ref.area)


@pytest.mark.parametrize("seed", [0, 1])
def test_taylor_rows_on_arrays_are_those_of_taylor_statistics(seed):
    from rhbench.metrics.map_scores import taylor_rows

    rng = np.random.default_rng(seed)
    ref = _reference(seed)
    model = _hostile(rng, _grid(), dtype=np.float32)
    stats = taylor_statistics(ref.rh_land.where(ref.vegetated_mask), model.where(ref.vegetated_mask), ref.area)
    rows = {r.metric: r.value for r in taylor_rows("M", "dgvm", "rh", ref.rh_land, model, ref)}
    assert rows["rh_taylor_r"] == stats["r"] and rows["rh_taylor_sd"] == stats["sd_model"]
    assert rows["rh_taylor_score"] == stats["score"] and np.isfinite(stats["score"])
    transposed = {r.metric: r.value for r in taylor_rows("M", "dgvm", "rh", ref.rh_land, model.T, ref)}
    assert transposed == rows


@pytest.mark.parametrize("seed", [0, 1])
def test_spatial_distribution_and_coverage_on_arrays_are_the_xarray_ones(seed):
    from rhbench.metrics import ilamb
    from rhbench.metrics.totals import covered_areas

    rng = np.random.default_rng(seed + 50)  # (not the reference's stream: other missing cells)
    ref = _reference(seed)
    model = _hostile(rng, _grid(), dtype=np.float64)
    got = ilamb.spatial_distribution(ref.rh_land, model)
    aligned_ref, aligned_model = xr.align(ref.rh_land, model, join="exact")
    values = np.asarray(aligned_ref.values, dtype=float), np.asarray(aligned_model.values, dtype=float)
    expected = ilamb.spatial_distribution(*(xr.DataArray(v, dims=("x", "y")) for v in values))  # the xarray path
    assert got == expected and np.isfinite(got["score"])
    assert ilamb.spatial_distribution(ref.rh_land, model.T) == got  # a transposed model: the same cells
    land = ref.land_mask
    expected_areas = (float(ref.area.where(land, 0.0).sum()), float(ref.area.where(land & model.notnull(), 0.0).sum()))
    assert covered_areas(model, land, ref.area) == expected_areas
    assert 0 < expected_areas[1] < expected_areas[0]


@pytest.mark.parametrize("products", [0, 1, 3])
@pytest.mark.parametrize("with_sd", [False, True])
def test_observation_products_on_arrays_are_the_xarray_ones(products, with_sd, monkeypatch):
    rng = np.random.default_rng(products)
    ref = _reference(products)
    coords = _grid()
    maps = [_hostile(rng, coords, dtype=np.float32, low=0.0).values for _ in range(products)]
    stack = np.stack(maps) if maps else np.empty((0, *ref.area.shape), dtype=np.float32)
    csoil = xr.DataArray(
        stack,
        dims=("product", "lat", "lon"),
        coords={"product": [f"P{i}" for i in range(products)], **coords},
        attrs={"units": "kg m-2", "long_name": "soil carbon"},
    )
    area = ref.area.copy()
    area.values[5, 5] = np.nan  # a missing area: zero weight in the sums
    area.attrs = {"units": "m2", "long_name": "cell area"}  # attributes xarray's arithmetic merges or drops
    rh_sd = _hostile(rng, coords, attrs={"long_name": "sd"}) if with_sd else None
    got = ensemble.observation_products(csoil, rh_sd, area, ref.land_mask)
    monkeypatch.setattr(ensemble_arrays, "observation_products", lambda *a: None)  # the xarray path
    expected = ensemble.observation_products(csoil, rh_sd, area, ref.land_mask)
    _assert_same_dataset(got, expected)
    if products:
        assert np.isfinite(got["csoil_zonal"].values).any()


def test_years_coordinates_are_labelled_in_one_order_whatever_the_hash_seed():
    import subprocess
    import sys

    code = (
        "import numpy as np, xarray as xr\n"
        "from rhbench.metrics import map_years\n"
        "names = ('tau_veg', 'rh', 'tau_soil', 'csoil')\n"
        "ds = xr.Dataset({n: ('source', [1.0]) for n in names}, coords={'source': ['A']})\n"
        "print(list(map_years.labelled(ds, {}, (1982, 2018)).coords))\n"
    )
    orders = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2", "3", "4")
    }
    assert len(orders) == 1 and "rh_years" in orders.pop()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int16])
@pytest.mark.parametrize("dims", [("year", "lat", "lon"), ("lat", "year", "lon")])
def test_years_with_values_one_year_at_a_time_are_those_of_the_xarray_reduction(dtype, dims):
    from rhbench import kernels

    rng = np.random.default_rng(11)
    sizes = {"year": 7, "lat": 5, "lon": 6}
    values = rng.random([sizes[d] for d in dims]) * 10
    year_axis = dims.index("year")
    values[rng.random(values.shape) < 0.5] = np.nan
    np.moveaxis(values, year_axis, 0)[[1, 4]] = np.nan  # two years without any value
    if np.issubdtype(dtype, np.integer):
        values = np.nan_to_num(values)
    data = xr.DataArray(values.astype(dtype), dims=dims, coords={"year": np.arange(2000, 2007)})
    expected = np.asarray(data.notnull().any(["lat", "lon"]).transpose("year").values, dtype=bool)
    got = kernels.years_with_values(data)
    assert got.dtype == bool and np.array_equal(got, expected)
    assert np.array_equal(kernels.years_with_values(data.chunk({"year": 3})), expected)  # dask: its own reduction
    if not np.issubdtype(dtype, np.integer):
        assert not got[1] and not got[4] and got.sum() == 5


def test_the_period_mean_counts_years_present_exactly_with_many_years():
    from rhbench import kernels

    values = np.full((300, 2, 3), 2.5, dtype=np.float32)  # more years than an 8-bit count holds
    values[::3, 0, 0] = np.nan
    values[:, 1, 2] = np.nan
    data = xr.DataArray(values, dims=("year", "lat", "lon"), coords={"year": np.arange(1700, 2000)})
    mean = kernels.nanmean_years(data).values
    assert mean[0, 0] == 2.5 and mean[1, 1] == 2.5 and np.isnan(mean[1, 2])
    expected = data.astype("float64").mean("year").values  # the docstring's promise, bit for bit
    assert np.array_equal(mean, expected, equal_nan=True)


def test_reference_rows_of_native_totals_in_another_region_order_are_the_same():
    from rhbench.metrics.observed import ObservedTotals
    from rhbench.metrics.reference import native_reference_rows

    ref = _reference(2)
    names = ref.region_names
    rng = np.random.default_rng(12)

    def totals(order):
        regions = [names[i] for i in order]
        rh = xr.Dataset(
            {key: ("region", rng_values[key][order]) for key in ("rh_total", "rh_mean")}, coords={"region": regions}
        )
        csoil = xr.DataArray(rng_values["csoil"][:, order], dims=("product", "region"), coords={"region": regions})
        return ObservedTotals(rh, csoil.assign_coords(product=["a", "b"]), {"observations": "test grid"})

    rng_values = {"rh_total": rng.random(len(names)) * 60, "rh_mean": rng.random(len(names)) * 500}
    rng_values["csoil"] = rng.random((2, len(names))) * 1500
    ordered = native_reference_rows(dataclasses.replace(ref, totals=totals(np.arange(len(names)))))
    shuffled = native_reference_rows(dataclasses.replace(ref, totals=totals(rng.permutation(len(names)))))
    assert [repr(r) for r in shuffled] == [repr(r) for r in ordered]
    by_region = {r.region: r.value for r in ordered if r.metric == "rh_total"}
    assert by_region[names[3]] == rng_values["rh_total"][3]  # each value under its own region's name


@pytest.mark.parametrize("nan_area", [False, True])
def test_native_totals_of_rh_on_all_the_land_reuse_the_land_sums_bit_for_bit(nan_area, monkeypatch):
    from test_speed_cuts_arrays import _assert_same_numbers, _native_totals_xarray

    from rhbench import grid
    from rhbench.metrics import native

    target = grid.common_grid(2.0)
    rng = np.random.default_rng(13)
    shape = (target.sizes["lat"], target.sizes["lon"])
    coords = {"lat": target["lat"].values, "lon": target["lon"].values}
    rh = rng.gamma(2.0, 300.0, shape)
    rh[rng.random(shape) < 0.4] = np.nan
    land = np.where(np.isnan(rh), np.nan if nan_area else 0.0, rng.random(shape) * 1e9)  # Rh on all the land
    period = xr.Dataset({"rh": (("lat", "lon"), rh), "cSoil": (("lat", "lon"), rng.gamma(2.0, 10.0, shape))}, coords)
    land_area = xr.DataArray(land, dims=("lat", "lon"), coords=coords)
    regions = native.native_regions(period["rh"])
    stacked = []
    real = native.sums_missing_as_zero
    monkeypatch.setattr(native, "sums_missing_as_zero", lambda v, m: stacked.append(v.shape[0]) or real(v, m))
    got = native.native_totals(period, land_area, regions)
    _assert_same_numbers(got, _native_totals_xarray(period, land_area, regions))
    assert stacked == [3]  # land area, rh and cSoil x land area: the covered area is the land's
    assert float(got["coverage"].sel(region="global")) == 1.0


def _zero_filled_mean(values: np.ndarray) -> np.ndarray:
    """The period mean written plainly: each year's values, missing as zero, added in year order in float64."""
    total, absent = np.zeros(values.shape[1:]), np.zeros(values.shape[1:], int)
    for year in values:
        missing = np.isnan(year)
        total += np.where(missing, 0.0, year.astype("float64"))
        absent += missing
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / (values.shape[0] - absent)


@pytest.mark.parametrize("share", [0.0, 1.0])  # cells with gaps summed again in place / copied out
@pytest.mark.parametrize("case", ["hostile", "no_gaps", "all_missing", "one_cell", "scattered", "few_gaps"])
def test_the_period_mean_resums_only_cells_with_gaps_and_gives_the_same_bits(case, share, monkeypatch):
    """kernels.nanmean_years adds every year as it is and sums the cells missing in some year again:
    each cell's mean is the zero-filled sum's, bit for bit (NaN where no year has a value), on fields with
    all-missing rows, cells missing some years, infinities, signed zeros, one cell, or gaps everywhere."""
    from rhbench import kernels

    monkeypatch.setattr(kernels, "PARTIAL_GATHER_SHARE", share)
    rng = np.random.default_rng(31)
    values = (rng.random((9, 6, 7)) * 1e3 - 200).astype(np.float32)
    if case == "hostile":
        values[:, 0] = np.nan  # an all-missing row (ocean)
        values[2, 1, 1] = values[8, 1, 2] = values[:8, 3, 3] = np.nan  # one year, the last, all but one
        values[:, 2, 0], values[0, 2, 1], values[4, 2, 1] = -0.0, np.inf, -np.inf  # -0.0 sums to +0.0; inf - inf: NaN
        values[:, 2, 2], values[5, 2, 2] = np.inf, np.nan  # inf in the years present
    elif case == "all_missing":
        values[:] = np.nan
    elif case == "one_cell":
        values = values[:, :1, :1].copy()
        values[3, 0, 0] = np.nan
    elif case == "scattered":
        values[rng.random(values.shape) < 0.3] = np.nan  # gaps in most cells
    elif case == "few_gaps":
        values = (rng.random((9, 40, 50)) * 1e3).astype(np.float32)
        values[:, :5] = np.nan
        values[[0, 4, 8], [10, 20, 39], [0, 25, 49]] = np.nan  # three cells, each missing one year
    data = xr.DataArray(values, dims=("year", "lat", "lon"), coords={"year": np.arange(2000, 2009)})
    mean = kernels.nanmean_years(data).values
    expected = _zero_filled_mean(values)
    assert np.array_equal(mean.view(np.int64), expected.view(np.int64))  # the same bits, NaNs included
    assert np.array_equal(mean, data.astype("float64").mean("year").values, equal_nan=True)
    if case == "hostile":
        assert np.isnan(mean[0]).all() and mean[3, 3] == np.float64(values[8, 3, 3])
        assert mean[2, 0] == 0 and not np.signbit(mean[2, 0])  # (+0.0 + -0.0: the sum starts at +0.0)
        assert np.isnan(mean[2, 1]) and mean[2, 2] == np.inf
