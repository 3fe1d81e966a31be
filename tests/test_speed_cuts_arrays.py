"""Cuts of a run's fixed work (issue 18, session 6): hot paths on numpy arrays extracted once.

Each test gives exactly what the xarray code it replaced gave (a copy of that code is kept
here, as in :mod:`tests.test_speed_cuts`): the same floats bit for bit, NaN where NaN.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench import grid, landfrac


def _native_totals_before(period: xr.Dataset, land_area: xr.DataArray, regions: xr.DataArray) -> xr.Dataset:
    """The former :func:`rhbench.metrics.native.native_totals` (rh's sum taken twice, coverage's area twice)."""
    from rhbench.metrics.native import TOTALS
    from rhbench.metrics.totals import region_sums, regional_means, regional_totals
    from rhbench.metrics.turnover import ratio_of_totals

    out = {}
    names = [str(r) for r in regions["region"].values]
    regions = regions.astype(bool).astype("float64")
    all_land = region_sums(land_area, regions)
    out["land_area"] = all_land.assign_attrs(units="m2")
    for name, (total, grams) in TOTALS.items():
        if name in period:
            out[total] = regional_totals(period[name].where(land_area > 0), land_area, regions, grams_per_unit=grams)
    rh = period["rh"].where(land_area > 0)
    out["rh_mean"] = regional_means(rh, land_area, regions)
    covered = region_sums(land_area.where(rh.notnull(), 0.0), regions)
    out["coverage"] = (covered / all_land.where(all_land > 0)).assign_attrs(units="1")
    out["tau_soil"] = ratio_of_totals(period["cSoil"], period["rh"], land_area, regions)
    ds = xr.Dataset({k: v.drop_vars([c for c in v.coords if c != "region"]) for k, v in out.items()})
    return ds.assign_coords(region=names)


def test_native_totals_with_shared_sums_are_those_summed_twice():
    from rhbench.metrics.native import native_regions, native_totals

    target = grid.common_grid(1.0)
    rng = np.random.default_rng(5)
    shape = (target.sizes["lat"], target.sizes["lon"])
    coords = {"lat": target["lat"].values, "lon": target["lon"].values}
    rh = rng.gamma(2.0, 300.0, shape)
    rh[rng.random(shape) < 0.4] = np.nan
    soil = rng.gamma(2.0, 10.0, shape)
    period = xr.Dataset({"rh": (("lat", "lon"), rh), "cSoil": (("lat", "lon"), soil)}, coords=coords)
    land = xr.DataArray(rng.random(shape) * 1e9, dims=("lat", "lon"), coords=coords)
    land = land.where(rng.random(shape) > 0.2, 0.0)
    regions = native_regions(period["rh"])
    got = native_totals(period, land, regions)
    _assert_same_numbers(got, _native_totals_before(period, land, regions))


def _assert_same_numbers(got: xr.Dataset, expected: xr.Dataset) -> None:
    """The same variables in the same order, coordinates and values bit for bit (NaN where NaN)."""
    xr.testing.assert_equal(got, expected)
    assert list(got.data_vars) == list(expected.data_vars)
    for name in got.data_vars:
        assert np.array_equal(got[name].values, expected[name].values, equal_nan=True), name


def _native_totals_xarray(period: xr.Dataset, land_area: xr.DataArray, regions: xr.DataArray) -> xr.Dataset:
    """The former :func:`rhbench.metrics.native.native_totals`, written with xarray operations."""
    from rhbench.metrics.native import TOTALS
    from rhbench.metrics.totals import means_of_sums, region_sums, totals_of_sums
    from rhbench.metrics.turnover import ratio_of_totals

    out: dict[str, xr.DataArray] = {}
    names = [str(r) for r in regions["region"].values]
    regions = regions.astype(bool, copy=False).astype("float64")
    all_land = region_sums(land_area, regions)
    out["land_area"] = all_land.assign_attrs(units="m2")
    fields, sums = {}, {}
    for name, (total, grams) in TOTALS.items():
        if name in period:
            fields[name] = period[name].where(land_area > 0)
            sums[name] = region_sums(fields[name] * land_area, regions)
            out[total] = totals_of_sums(sums[name], grams)
    if "rh" in period:
        covered = region_sums(land_area.where(fields["rh"].notnull(), 0.0), regions)
        out["rh_mean"] = means_of_sums(sums["rh"], covered)
        out["coverage"] = (covered / all_land.where(all_land > 0)).assign_attrs(units="1")
    if "rh" in period and "cSoil" in period:
        out["tau_soil"] = ratio_of_totals(period["cSoil"], period["rh"], land_area, regions)
    if "cVeg" in period and "litterfall" in period:
        out["tau_veg"] = ratio_of_totals(period["cVeg"], period["litterfall"], land_area, regions)
    ds = xr.Dataset({k: v.drop_vars([c for c in v.coords if c != "region"]) for k, v in out.items()})
    return ds.assign_coords(region=names)


@pytest.mark.parametrize("step", [0.5, 2.0])
def test_native_totals_on_arrays_are_those_of_the_xarray_expressions(step):
    """The numpy sums give the xarray expressions' numbers bit for bit (0.5 degree: the size
    of the side by side's files), each variable with its units."""
    from rhbench.metrics.native import native_regions, native_totals
    from rhbench.vegclass import CLASS_NAMES

    target = grid.common_grid(step)
    rng = np.random.default_rng(11)
    shape = (target.sizes["lat"], target.sizes["lon"])
    coords = {"lat": target["lat"].values, "lon": target["lon"].values}
    fields = {name: rng.gamma(2.0, scale, shape) for name, scale in (("rh", 300.0), ("cSoil", 10.0), ("npp", 400.0))}
    fields |= {"cVeg": rng.gamma(2.0, 5.0, shape), "litterfall": rng.gamma(2.0, 200.0, shape), "gpp": -fields["npp"]}
    for values in fields.values():
        values[rng.random(shape) < 0.3] = np.nan
    period = xr.Dataset({k: (("lat", "lon"), v, {"units": "x"}) for k, v in fields.items()}, coords=coords)
    land = xr.DataArray(rng.random(shape) * 1e9, dims=("lat", "lon"), coords=coords, attrs={"units": "m2"})
    land = land.where(rng.random(shape) > 0.2, 0.0).where(rng.random(shape) > 0.01)  # some NaN area
    codes = rng.integers(0, len(CLASS_NAMES) + 1, shape).astype(float)
    classes = xr.DataArray(codes, dims=("lat", "lon"), coords=coords)
    regions = native_regions(period["rh"], vegclass=classes)
    for subset in (list(fields), ["rh"], ["cSoil"], ["cVeg", "litterfall"]):
        got = native_totals(period[subset], land, regions)
        _assert_same_numbers(got, _native_totals_xarray(period[subset], land, regions))
    got = native_totals(period.transpose("lon", "lat"), land, regions)  # another dimension order
    _assert_same_numbers(got, _native_totals_xarray(period.transpose("lon", "lat"), land, regions))
    units = {k: v.attrs["units"] for k, v in got.data_vars.items()}
    assert units["rh_total"] == units["npp_total"] == "Pg C yr-1" and units["csoil_total"] == "Pg C"
    assert units["rh_mean"] == "g C m-2 yr-1" and units["coverage"] == "1" and units["land_area"] == "m2"
    assert units["tau_soil"] == units["tau_veg"] == "yr"


def _attribute_tau_bias_xarray(csoil_mod, rh_mod, csoil_obs, rh_obs, area, mask=None):
    """The former :func:`rhbench.metrics.turnover.attribute_tau_bias` (maps, summary), with xarray operations."""
    from rhbench.metrics.taylor import taylor_statistics
    from rhbench.metrics.turnover import CSOIL_DOMINATED, RH_DOMINATED, RH_FLOOR_FOR_TAU, tau_map

    used = (rh_obs >= RH_FLOOR_FOR_TAU) & (rh_mod >= RH_FLOOR_FOR_TAU) & (csoil_obs > 0) & csoil_mod.notnull()
    if mask is not None:
        used = used & mask.astype(bool)
    tau_obs = tau_map(csoil_obs, rh_obs).where(used)
    from_rh = 100.0 * (rh_obs / rh_mod - 1.0)
    from_csoil = 100.0 * (csoil_mod / csoil_obs - 1.0)
    tau_bias = 100.0 * (tau_map(csoil_mod, rh_mod) / tau_obs - 1.0)
    rh_bias = 100.0 * (rh_mod / rh_obs - 1.0)
    dominated = np.abs(from_rh) > np.abs(from_csoil)
    attribution = xr.where(dominated, float(RH_DOMINATED), float(CSOIL_DOMINATED)).where(used)
    maps = xr.Dataset(
        {
            "tau_bias_pct": tau_bias.where(used),
            "bias_from_rh_pct": from_rh.where(used),
            "bias_from_csoil_pct": from_csoil.where(used),
            "rh_bias_pct": rh_bias.where(used),
            "attribution": attribution,
        }
    )
    weight = area.where(used, 0.0)
    used_area = float(weight.sum())

    def total(field):
        return float((field.where(used, 0.0) * weight).sum())

    if used_area == 0:
        keys = ("rh_dominated_area_pct", "tau_bias_pct", "bias_from_rh_pct", "bias_from_csoil_pct")
        return maps, dict.fromkeys((*keys, "corr_rh_dev_tau_dev"), float("nan")) | {"area_m2": 0.0}
    dominated_area = float(weight.where(maps["attribution"] == RH_DOMINATED, 0.0).sum())
    rh_ratio = total(rh_obs) / total(rh_mod)
    csoil_ratio = total(csoil_mod) / total(csoil_obs)
    corr = taylor_statistics(maps["rh_bias_pct"], maps["tau_bias_pct"], weights=area)["r"]
    return maps, {
        "rh_dominated_area_pct": 100.0 * dominated_area / used_area,
        "tau_bias_pct": 100.0 * (csoil_ratio * rh_ratio - 1.0),
        "bias_from_rh_pct": 100.0 * (rh_ratio - 1.0),
        "bias_from_csoil_pct": 100.0 * (csoil_ratio - 1.0),
        "corr_rh_dev_tau_dev": corr,
        "area_m2": used_area,
    }


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("step", [0.5, 2.0])
def test_tau_bias_attribution_on_arrays_is_the_xarray_one(step, dtype):
    """Maps bit for bit (the attribution map without attributes, as before; the others in %)
    and the summary's floats exactly, with and without the vegetated mask, with Rh below the
    floor, missing cells and no cell used at all."""
    from rhbench.metrics.turnover import attribute_tau_bias

    target = grid.common_grid(step)
    rng = np.random.default_rng(23)
    shape = (target.sizes["lat"], target.sizes["lon"])
    coords = {"lat": target["lat"].values, "lon": target["lon"].values}

    def field(scale: float) -> xr.DataArray:
        values = rng.gamma(2.0, scale, shape).astype(dtype)
        values[rng.random(shape) < 0.2] = np.nan
        values[rng.random(shape) < 0.05] = 0.5  # below the floor of a per-cell tau
        return xr.DataArray(values, dims=("lat", "lon"), coords=coords, attrs={"units": "x"})

    inputs = [field(10.0), field(300.0), field(12.0), field(280.0)]
    area = grid.cell_area(target["lat"], target["lon"])
    vegetated = xr.DataArray(rng.random(shape) > 0.3, dims=("lat", "lon"), coords=coords)
    nothing_used = [inputs[0], inputs[1], inputs[2] * np.nan, inputs[3]]
    for given, mask in ((inputs, None), (inputs, vegetated), (nothing_used, vegetated)):
        got = attribute_tau_bias(*given, area, mask)
        maps, summary = _attribute_tau_bias_xarray(*given, area, mask)
        assert repr(got.summary) == repr(summary)
        xr.testing.assert_equal(got.maps, maps)
        for name in maps.data_vars:
            assert got.maps[name].dtype == maps[name].dtype
            assert np.array_equal(got.maps[name].values, maps[name].values, equal_nan=True), name
        assert got.maps["attribution"].attrs == maps["attribution"].attrs == {}
        assert (got.summary["area_m2"] > 0) == (given is inputs)


def _zonal_profile_xarray(field: xr.DataArray, area: xr.DataArray) -> xr.DataArray:
    """The former :func:`rhbench.metrics.totals.zonal_profile`."""
    weights = area.where(field.notnull(), 0.0)
    total_weight = weights.sum("lon")
    return ((field * area).fillna(0.0).sum("lon") / total_weight).where(total_weight > 0)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_zonal_profiles_on_arrays_are_the_xarray_ones(dtype):
    """Bit for bit, with missing cells, rows without any value, NaN cell areas and another
    dimension order; a field with a further dimension takes xarray's way, as before."""
    from rhbench.metrics.totals import zonal_profile

    target = grid.common_grid(0.5)
    rng = np.random.default_rng(31)
    shape = (target.sizes["lat"], target.sizes["lon"])
    coords = {"lat": target["lat"].values, "lon": target["lon"].values}
    values = rng.gamma(2.0, 300.0, shape).astype(dtype)
    values[rng.random(shape) < 0.3] = np.nan
    values[:40] = np.nan  # rows without a value
    field = xr.DataArray(values, dims=("lat", "lon"), coords=coords, name="rh")
    area = grid.cell_area(target["lat"], target["lon"]).where(rng.random(shape) > 0.01)
    for given in (field, field.transpose("lon", "lat")):
        got, expected = zonal_profile(given, area), _zonal_profile_xarray(given, area)
        xr.testing.assert_equal(got, expected)
        assert got.dtype == expected.dtype and np.array_equal(got.values, expected.values, equal_nan=True)
    stacked = xr.concat([field, field * 2.0], dim="source")
    xr.testing.assert_identical(zonal_profile(stacked, area), _zonal_profile_xarray(stacked, area))


def _file_bounds_by_xarray(path, like):
    """The former :func:`rhbench.landfrac.file_bounds`: every file opened and decoded by xarray."""
    from pathlib import Path

    from rhbench.errors import DataError
    from rhbench.readers import geotiff, netcdf

    if geotiff.is_geotiff(Path(path)):
        return None
    found = []
    try:
        with netcdf.open_file(Path(path)) as ds:
            for dim, names in (("lat", ("lat", "latitude")), ("lon", ("lon", "longitude"))):
                name = next((n for n in names if n in ds.variables), None)
                if name is None:
                    return None
                bnds = ds[name].attrs.get("bounds", f"{name}_bnds")
                if bnds not in ds.variables or ds[bnds].ndim != 2:
                    return None
                found.append(landfrac._aligned(ds[name].values, ds[bnds].values, like[dim].values, dim == "lon"))
    except (OSError, ValueError, DataError):
        return None
    if any(b is None for b in found):
        return None
    return found[0], found[1]


def _bounded_file(path, *, lat="lat", dtype="float64", fill=False, scale=False, named=True, gz=False):
    """A small netCDF file with cell bounds (north-to-south, 0..360 longitudes)."""
    import gzip
    import shutil

    lat_c = np.arange(88.0, -90.0, -4.0).astype(dtype)
    lon_c = np.arange(2.5, 360.0, 5.0).astype(dtype)
    lat_b = np.stack([lat_c + 2.0, lat_c - 2.0], axis=1)
    lon_b = np.stack([lon_c - 2.5, lon_c + 2.5], axis=1)
    bounds_name = f"{lat}_bnds" if named else "edges"
    ds = xr.Dataset(
        {
            "rh": ((lat, "lon"), np.ones((lat_c.size, lon_c.size), dtype="float32")),
            bounds_name: ((lat, "nv"), lat_b),
            "lon_bnds": (("lon", "nv"), lon_b),
        },
        coords={lat: (lat, lat_c, {"bounds": bounds_name} if not named else {}), "lon": lon_c},
    )
    encoding = {name: {"_FillValue": None} for name in ds.variables}
    if fill:
        encoding[bounds_name] = {"_FillValue": lat_b[0, 0]}  # xarray masks it: the first bound becomes NaN
    if scale:
        encoding["lon_bnds"] = {"dtype": "int16", "scale_factor": 0.5, "_FillValue": -999}
    target = path.with_suffix(".nc")
    ds.to_netcdf(target, encoding=encoding)
    if gz:
        with open(target, "rb") as src, gzip.open(path.with_suffix(".nc.gz"), "wb") as out:
            shutil.copyfileobj(src, out)
        return path.with_suffix(".nc.gz")
    return target


def test_bounds_read_as_stored_are_those_xarray_decodes(tmp_path, monkeypatch):
    """netCDF4 alone for bounds stored plainly, xarray's decoding (fill values, scales) otherwise:
    the same arrays as every file opened by xarray, for every kind of file below."""
    from rhbench.readers import netcdf

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))  # gunzipped copies
    like = xr.DataArray(np.zeros((45, 72)), dims=("lat", "lon"))
    like = like.assign_coords(lat=np.arange(-88.0, 90.0, 4.0), lon=np.arange(-177.5, 180.0, 5.0))
    cases = {
        "plain": {},
        "float32": {"dtype": "float32"},
        "latitude": {"lat": "latitude"},
        "attribute": {"named": False},
        "fill": {"fill": True},
        "scaled": {"scale": True},
        "gzipped": {"gz": True},
    }
    opened = []
    real = netcdf.open_file
    monkeypatch.setattr(netcdf, "open_file", lambda *a, **k: opened.append(a[0]) or real(*a, **k))
    for name, options in cases.items():
        path = _bounded_file(tmp_path / name, **options)
        opened.clear()
        got = landfrac.file_bounds(path, like)
        assert bool(opened) == (name in ("fill", "scaled")), name  # xarray opened it only to decode
        expected = _file_bounds_by_xarray(path, like)
        assert got is not None and expected is not None, name
        if expected is not None:
            for a, b in zip(got, expected, strict=True):
                assert a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True), name
    assert np.isnan(landfrac.file_bounds(_bounded_file(tmp_path / "f2", fill=True), like)[0]).any()
    other = like.assign_coords(lat=like["lat"].values + 1.0)  # other centres: no bounds, as before
    assert landfrac.file_bounds(_bounded_file(tmp_path / "p2"), other) is None
    (tmp_path / "text.nc").write_text("not netCDF")
    assert (
        landfrac.file_bounds(tmp_path / "text.nc", like) is None is _file_bounds_by_xarray(tmp_path / "text.nc", like)
    )


def _partition_totals_xarray(annual, area, parts):
    """The former :func:`rhbench.reduce.partition_totals` (valid and present cells from xarray's
    ``notnull().all/any("year")``, two passes per variable)."""
    from rhbench.reduce import REQUIRED

    names = [v for v in (*REQUIRED, "fVegLitter") if v in annual]
    valid, present = np.ones(area.shape, dtype=bool), np.zeros(area.shape, dtype=bool)
    for name in names:
        valid &= np.asarray(annual[name].notnull().all("year").values)
        present |= np.asarray(annual[name].notnull().any("year").values)
    cells = np.flatnonzero(valid.ravel())
    weights = np.asarray(area.values, dtype="float64").ravel()[cells]
    onehot = np.zeros((cells.size, len(parts.names)))
    onehot[np.arange(cells.size), parts.index.ravel()[cells]] = 1.0
    onehot *= weights[:, None]
    years = annual["year"].values
    totals = {}
    for name in names:
        values = np.asarray(annual[name].values).reshape(years.size, -1)[:, cells]
        totals[name] = (
            ("year", "lat", "lon"),
            (values.astype("float64") @ onehot)[..., None],
            dict(annual[name].attrs),
        )
    its_land = np.where(present, np.nan_to_num(np.asarray(area.values, dtype="float64")), 0.0).ravel()
    shares = {
        "land_area": np.bincount(parts.index.ravel(), weights=its_land, minlength=len(parts.names)),
        "valid_land_area": onehot.sum(axis=0),
    }
    for name, values in shares.items():
        totals[name] = (("lat", "lon"), values[:, None], {"units": "m2"})
    coords = {"year": years, "lat": parts.area["lat"].values, "lon": parts.area["lon"].values}
    return xr.Dataset(totals, coords=coords, attrs=annual.attrs)


def test_partition_totals_with_one_isnan_pass_are_those_of_two_reductions():
    from rhbench import reduce
    from rhbench.vegclass import CLASS_NAMES

    target = grid.common_grid(2.0)
    rng = np.random.default_rng(41)
    shape = (target.sizes["lat"], target.sizes["lon"])
    coords = {"year": np.arange(2000, 2010), "lat": target["lat"].values, "lon": target["lon"].values}
    fields = {}
    for name in ("rh", "npp", "cSoil", "cVeg"):
        values = rng.gamma(2.0, 100.0, (10, *shape)).astype("float32")
        values[rng.random(values.shape) < 0.02] = np.nan  # a missing year here and there
        values[:, rng.random(shape) < 0.3] = np.nan  # cells without any value
        fields[name] = (("year", "lat", "lon"), values, {"units": "x"})
    annual = xr.Dataset(fields, coords=coords, attrs={"source": "M"})
    area = grid.cell_area(target["lat"], target["lon"])
    codes = rng.integers(0, len(CLASS_NAMES) + 1, shape).astype(float)
    classes = xr.DataArray(codes, dims=("lat", "lon"), coords={k: coords[k] for k in ("lat", "lon")})
    parts = reduce.partition({n: classes == i + 1 for i, n in enumerate(CLASS_NAMES)}, area)
    for given in (annual, annual[["rh"]], annual.transpose("lat", "year", "lon")):
        xr.testing.assert_identical(
            reduce.partition_totals(given, area, parts), _partition_totals_xarray(given, area, parts)
        )


# The three ways the numpy cuts wrote "missing values as zero" before session 7 (item 3), frozen.
def _nansum_before(values: np.ndarray) -> float:
    """The former ``rhbench.metrics.turnover._nansum``."""
    return float(np.sum(np.where(np.isnan(values), 0.0, values)))


def _sums_before(values: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """The former ``rhbench.metrics.native._sums``."""
    return np.einsum("...ab,...cab->...c", np.where(np.isnan(values), 0.0, values), masks)


def _zonal_sums_before(values: np.ndarray, cells: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sums of the former inline code of ``rhbench.metrics.totals.zonal_profile``."""
    weights = np.where(np.isnan(values), 0.0, cells)
    total_weight = np.sum(np.where(np.isnan(weights), 0.0, weights), axis=1)
    product = values * cells
    return total_weight, np.sum(np.where(np.isnan(product), 0.0, product), axis=1)


@pytest.mark.parametrize("seed", range(5))
def test_one_missing_as_zero_helper_gives_the_three_former_sums_bit_for_bit(seed):
    """``totals.sums_missing_as_zero`` on random (lat, lon) fields with 30 % NaN, areas with zeros and
    NaN, and three overlapping regions: every sum equal to the former code's, bit for bit."""
    from rhbench.metrics.totals import sums_missing_as_zero

    rng = np.random.default_rng(seed)
    shape = (12, 18)
    values = rng.gamma(2.0, 300.0, shape)
    values[rng.random(shape) < 0.3] = np.nan
    area = rng.random(shape) * 1e9
    area[rng.random(shape) < 0.2] = 0.0
    area[rng.random(shape) < 0.05] = np.nan
    masks = (rng.random((3, *shape)) < 0.6).astype("float64")
    np.testing.assert_array_equal(sums_missing_as_zero(values * area, masks), _sums_before(values * area, masks))
    np.testing.assert_array_equal(sums_missing_as_zero(area, masks), _sums_before(area, masks))
    assert float(sums_missing_as_zero(values * area)) == _nansum_before(values * area)
    weight, summed = _zonal_sums_before(values, area)
    np.testing.assert_array_equal(sums_missing_as_zero(np.where(np.isnan(values), 0.0, area), axis=1), weight)
    np.testing.assert_array_equal(sums_missing_as_zero(values * area, axis=1), summed)
    assert np.isfinite(summed).all() and (summed > 0).any()  # the fields are not degenerate
