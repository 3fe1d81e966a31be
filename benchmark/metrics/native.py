"""A model's totals on its own (native) grid, with cell area x land fraction, before any regridding.

Every total, regional mean and turnover time of a model is computed here from its
period-mean fields on the grid it was written on, weighted by the land area of each cell
(:class:`rhbench.landfrac.CellMeasures`): a coastal cell that is 30 % land counts 30 %.
The totals therefore depend on the model alone, not on the reference's land mask nor on
the common grid's resolution. Maps for Taylor statistics and bias maps are regridded
afterwards (:func:`rhbench.products.to_common_grid`).

Regions on the native grid follow the same rules as on the common grid
(:mod:`rhbench.metrics.totals`: cell-centre latitude for bands and climate zones);
``global`` is every native cell; a vegetation class is the set of native cells whose
centre falls in a common-grid cell of that class (nearest neighbour of the reference's
class map at the native cell centres).

Spatial coverage: ``coverage`` is the land area of the cells where the model has Rh over
the land area of all its cells (per region, for the record). The scorecard's
``rh_coverage`` row is measured against the reference's land area instead
(:mod:`rhbench.metrics.coverage`); :data:`COVERAGE_MIN` is the documented threshold below
which totals are failed rows (a model covering latitudes -40..40 only).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from rhbench import grid
from rhbench.metrics.totals import (
    GRAMS_PER_KILOGRAM,
    GRAMS_PER_PETAGRAM,
    band_rows,
    climate_zone_masks,
    lat_lon_values,
    latitude_band_masks,
    stack_masks,
    sums_missing_as_zero,
    zone_rows,
)
from rhbench.metrics.turnover import TURNOVER_RATIOS, aligned_name, ratio_of_totals
from rhbench.vegclass import class_masks

#: Minimum share of the reference's land area that a source's Rh map must cover for its
#: totals to be reported as ok (below: failed rows, with the share).
COVERAGE_MIN = 0.8
#: Period-mean fields (canonical names) -> the total's name and grams per (field unit x m2):
#: fluxes in g C m-2 yr-1 give Pg C yr-1, stocks in kg C m-2 give Pg C.
TOTALS = {
    "rh": ("rh_total", 1.0),
    "npp": ("npp_total", 1.0),
    "gpp": ("gpp_total", 1.0),
    "cSoil": ("csoil_total", GRAMS_PER_KILOGRAM),
    "cVeg": ("cveg_total", GRAMS_PER_KILOGRAM),
}


#: The last few region sets built (:func:`native_regions`): the reference and most models of a
#: run share one grid, so its masks are built once. Entries: (key, vegclass, masks).
_REGIONS_CACHE: list[tuple[tuple, xr.DataArray | None, xr.DataArray]] = []
_REGIONS_CACHE_SIZE = 4


def native_regions(
    like: xr.DataArray, *, vegclass: xr.DataArray | None = None, band_width: float = 10.0
) -> xr.DataArray:
    """Boolean (region, lat, lon) masks on ``like``'s grid: global, bands, climate zones, classes.

    ``vegclass`` is the reference's class map on the common grid (codes of
    :mod:`rhbench.vegclass`); it is sampled at ``like``'s cell centres by nearest neighbour.
    The masks of a grid already seen with the same ``vegclass`` object are returned again
    (shared: callers must not modify them).
    """
    lat, lon = like["lat"].values, like["lon"].values
    key = (lat.dtype.str, lat.tobytes(), lon.dtype.str, lon.tobytes(), float(band_width))
    for cached_key, cached_veg, masks in _REGIONS_CACHE:
        if cached_key == key and cached_veg is vegclass:
            return masks
    masks = _build_regions(like, vegclass, band_width)
    _REGIONS_CACHE.insert(0, (key, vegclass, masks))
    del _REGIONS_CACHE[_REGIONS_CACHE_SIZE:]
    return masks


def _build_regions(like: xr.DataArray, vegclass: xr.DataArray | None, band_width: float) -> xr.DataArray:
    lat, lon = like["lat"], like["lon"]
    classes = {}
    if vegclass is not None:
        target = xr.Dataset(coords={"lat": lat.values, "lon": lon.values})
        classes = class_masks(grid.regrid_nearest(vegclass, target))
    plain = lat.dims == ("lat",) and lon.dims == ("lon",)
    if plain and all(set(v.dims) == {"lat", "lon"} and set(v.coords) <= {"lat", "lon"} for v in classes.values()):
        return _stacked_regions(lat.values, lon.values, band_width, classes)
    masks = {"global": xr.ones_like(lat * lon, dtype=bool).transpose("lat", "lon")}
    masks |= latitude_band_masks(lat, lon, width=band_width)
    masks |= climate_zone_masks(lat, lon) | classes
    if all(set(v.dims) == {"lat", "lon"} and set(v.coords) <= {"lat", "lon"} for v in masks.values()):
        # the masks relabelled onto ``like``'s coordinates and stacked with numpy (as below, in one step)
        values = np.stack([np.asarray(v.transpose("lat", "lon").values, dtype=bool) for v in masks.values()])
        coords = {"region": list(masks), "lat": lat.values, "lon": lon.values}
        return xr.DataArray(values, dims=("region", "lat", "lon"), coords=coords, name="region_mask")
    stacked = stack_masks({k: v.assign_coords(lat=lat.values, lon=lon.values) for k, v in masks.items()})
    return stacked.transpose("region", "lat", "lon")


def _stacked_regions(lat: np.ndarray, lon: np.ndarray, band_width: float, classes: dict) -> xr.DataArray:
    """:func:`_build_regions` of 1-D ``lat`` and ``lon``: the rows of the global region, the bands and
    the zones (:func:`~rhbench.metrics.totals.band_rows`, :func:`~rhbench.metrics.totals.zone_rows`: the
    comparisons of their masks) and the (lat, lon) ``classes`` masks written into one boolean array."""
    rows = {"global": np.ones(lat.size, dtype=bool)} | band_rows(lat, band_width) | zone_rows(lat)
    values = np.empty((len(rows) + len(classes), lat.size, lon.size), dtype=bool)
    for i, row in enumerate(rows.values()):
        values[i] = np.asarray(row, dtype=bool)[:, None]
    for i, mask in enumerate(classes.values(), start=len(rows)):
        values[i] = np.asarray(mask.transpose("lat", "lon").values, dtype=bool)
    coords = {"region": [*rows, *classes], "lat": lat, "lon": lon}
    return xr.DataArray(values, dims=("region", "lat", "lon"), coords=coords, name="region_mask")


def native_totals(period: xr.Dataset, land_area: xr.DataArray, regions: xr.DataArray) -> xr.Dataset:
    """Totals per region of a model's period-mean fields on its native grid.

    Parameters
    ----------
    period: (lat, lon) period means: ``rh`` and ``litterfall`` in g C m-2 yr-1, ``cSoil``
        (soil + litter) and ``cVeg`` in kg C m-2; any may be absent.
    land_area: (lat, lon) cell area x land fraction, m2.
    regions: boolean (region, lat, lon) masks (:func:`native_regions`).

    Returns
    -------
    A Dataset over ``region`` with, for the variables present: ``rh_total``, ``npp_total``,
    ``gpp_total`` (Pg C yr-1),
    ``rh_mean`` (g C m-2 yr-1, per land area), ``csoil_total`` and ``cveg_total`` (Pg C),
    ``tau_soil`` (total cSoil / total Rh over cells with both, yr), ``tau_veg`` (total cVeg /
    total litterfall, yr), ``coverage`` (share of the land area with Rh values, 1) and
    ``land_area`` (m2); each with its ``units``.

    The fields, ``land_area`` and ``regions`` are aligned once (inner join on lat/lon, a no-op
    for the pipeline's fields, which share one grid); the sums are then taken on their numpy
    arrays, each region's as :func:`~rhbench.metrics.totals.region_sums` takes it (the same
    matrix product over the 0/1 masks, missing values as zero), so the numbers are those of
    the same expressions written with xarray. The land area, each value x land area and the
    area covered by Rh are stacked and contracted with the masks in one einsum (each mask
    converted once, not once per sum); each field's sums are those of its own einsum, bit for bit.
    """
    aligned = [aligned_name(name, ratio) for ratio, *names in TURNOVER_RATIOS for name in names]
    fields = {name: period[name] for name in (*TOTALS, "litterfall", *aligned) if name in period}
    *arrays, land_area, regions = xr.align(*fields.values(), land_area, regions, join="inner", copy=False)
    values = {
        name: lat_lon_values(data, "float64") for name, data in zip(fields, arrays, strict=True) if name in TOTALS
    }
    area = lat_lon_values(land_area, "float64")
    masks = np.asarray(regions.transpose("region", "lat", "lon").values).astype(bool, copy=False)
    with np.errstate(invalid="ignore", divide="ignore"):
        rows, names = _summed_rows(values, area)
        sums = dict(zip(names, sums_missing_as_zero(rows, masks), strict=True))
        if "rh" in values:
            sums.setdefault("covered", sums["land_area"])
        all_land = sums["land_area"]
        out = {"land_area": (all_land, "m2")}
        for name, (total, grams) in TOTALS.items():
            if name in values:
                out[total] = (sums[name] * grams / GRAMS_PER_PETAGRAM, _TOTAL_UNITS[grams])
        if "rh" in values:
            covered = sums["covered"]
            out["rh_mean"] = (np.where(covered > 0, sums["rh"] / covered, np.nan), "g C m-2 yr-1")
            out["coverage"] = (covered / np.where(all_land > 0, all_land, np.nan), "1")
    ds = xr.Dataset(
        {name: ("region", data, {"units": units}) for name, (data, units) in out.items()},
        coords={"region": [str(r) for r in regions["region"].values]},
    )
    return _with_turnover(ds, fields, land_area, regions, masks)


def _summed_rows(values: dict[str, np.ndarray], area: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """The (row, lat, lon) float64 array :func:`native_totals` sums per region, and its row names: the land
    area, each :data:`TOTALS` field x land area (NaN where the land area is not > 0: no value counted
    there) and, when Rh leaves some land without a value, the area Rh covers (else it is the land area
    itself: the same sums). Each row is written in place of one array: the values of
    ``np.where(area > 0, value, nan) * area`` and ``np.stack``, without their full-size copies."""
    present = [name for name in TOTALS if name in values]
    outside = ~(area > 0)
    covered = None
    if "rh" in values:
        covered = np.where(np.isnan(values["rh"]) | outside, 0.0, area)
        covered = None if np.array_equal(covered, np.where(np.isnan(area), 0.0, area)) else covered
    names = ["land_area", *present, *(["covered"] if covered is not None else [])]
    rows = np.empty((len(names), *area.shape), dtype="float64")
    rows[0] = area
    for row, name in zip(rows[1 : 1 + len(present)], present, strict=True):
        np.multiply(values[name], area, out=row)  # value x land area: each total, and rh's mean
        np.copyto(row, np.nan, where=outside)
    if covered is not None:
        rows[-1] = covered
    return rows, names


#: Units of a total by grams per (field unit x m2) (:data:`TOTALS`).
_TOTAL_UNITS = {1.0: "Pg C yr-1", GRAMS_PER_KILOGRAM: "Pg C"}


def _with_turnover(
    ds: xr.Dataset, fields: dict[str, xr.DataArray], land_area: xr.DataArray, regions: xr.DataArray, masks: np.ndarray
) -> xr.Dataset:
    """``ds`` with ``tau_soil`` (cSoil / Rh) and ``tau_veg`` (cVeg / litterfall) per region, yr,
    where both fields are given (:func:`~rhbench.metrics.turnover.ratio_of_totals`, over the
    boolean ``masks`` as 0/1 float64 weights, converted only when a ratio is taken)."""
    weights = None
    for name, stock_var, flux_var in TURNOVER_RATIOS:
        stock, flux = stock_var, "litterfall" if flux_var == "fVegLitter" else flux_var  # names in ``fields``
        if aligned_name(stock_var, name) in fields and aligned_name(flux_var, name) in fields:
            stock, flux = aligned_name(stock_var, name), aligned_name(flux_var, name)  # over common years
        if stock in fields and flux in fields:
            if weights is None:
                weights = xr.DataArray(masks.astype("float64"), dims=("region", "lat", "lon"), coords=regions.coords)
            tau = ratio_of_totals(fields[stock], fields[flux], land_area, weights)
            ds[name] = ("region", np.asarray(tau.transpose("region").values), {"units": "yr"})
    return ds


def global_total(field: xr.DataArray, land_area: xr.DataArray, *, grams_per_unit: float = 1.0) -> float:
    """Sum of ``field x land_area`` over every native cell, Pg C (yr-1); NaN cells count as 0."""
    return float(np.nansum((field * land_area).values)) * grams_per_unit / 1e15
