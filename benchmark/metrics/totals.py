"""Area-weighted global, zonal and per-class totals and means.

Regions (every rule uses the cell-centre latitude):

- latitude bands of :data:`BAND_WIDTH_DEG` (10 degree) width, south edge inclusive,
  named like ``"10S-EQ"``, ``"EQ-10N"``, ``"80N-90N"`` (see :func:`band_name`);
- climate zones: ``tropical`` |lat| < 23.5, ``boreal`` |lat| >= 50, ``temperate`` the rest
  (:data:`TROPICAL_MAX_ABS_LAT`, :data:`BOREAL_MIN_ABS_LAT`);
- vegetation classes of :mod:`rhbench.vegclass`.

A region set is a boolean DataArray (region, lat, lon) (:func:`stack_masks`), so a
field's totals over every region come out of one vectorised reduction.

Numpy paths and their xarray twins (the one statement of when each runs). The metrics are computed
on numpy arrays when their inputs are plain maps on the reference's grid (:func:`plain_on_grid`,
:func:`grid_values`: (lat, lon) DataArrays with no coordinate but lat and lon, equal to the
reference's). A run's own inputs always are: the loader gives every field in (year, lat, lon) order
on the common grid (the demo, ``annual-1`` and the REAL root take no twin: checked in session 11 by
marking each). The xarray twins (:func:`rhbench.metrics.fields.source_maps` and
:func:`~rhbench.metrics.fields.zonal_profiles`, :mod:`rhbench.metrics.ensemble`'s maps, appended
ensemble and observation products, the ILAMB bias and distribution scores, the Taylor rows,
:func:`covered_areas`, :func:`zonal_profile`, :func:`stack_masks`) serve callers of these public
functions with other maps: in (lon, lat) order, with other coordinates (a scalar ``year``), on
another grid (xarray aligns them by an inner join, or refuses), or without coordinates (Review 9,
R9-7). They are kept: an inner join or a missing coordinate has no numpy equivalent here, and a
transpose, which would make a (lon, lat) map plain, was not shown to leave every output (attributes,
coordinate order) the same (session 11), so that twin stays too. Tests run both paths on the same
inputs: tests/test_metrics_twins.py (the maps and zonal profiles), tests/test_speed_session10.py (the
ensemble's), tests/test_speed_cuts_arrays.py, tests/test_review9.py (R9-7), tests/test_metrics_suite.py
(a product map in (lon, lat) order).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

#: m2 * g C m-2 yr-1 -> Pg C yr-1 (and m2 * kg C m-2 -> Pg C after the 1e3 g/kg factor).
GRAMS_PER_PETAGRAM = 1e15
#: Factor for stocks in kg C m-2: pass as ``grams_per_unit``.
GRAMS_PER_KILOGRAM = 1e3
#: Width of the zonal latitude bands, degrees.
BAND_WIDTH_DEG = 10.0
#: Tropical zone: |lat| strictly below this (degrees).
TROPICAL_MAX_ABS_LAT = 23.5
#: Boreal zone: |lat| at or above this (degrees); temperate lies in between.
BOREAL_MIN_ABS_LAT = 50.0
#: Climate zone names, south-to-pole order of |lat|.
CLIMATE_ZONES: tuple[str, ...] = ("tropical", "temperate", "boreal")


def global_total(flux_or_stock: xr.DataArray, area: xr.DataArray, *, grams_per_unit: float = 1.0) -> xr.DataArray:
    """Sum of ``value * cell area`` over lat/lon, in Pg C (or Pg C yr-1 for a flux).

    Parameters
    ----------
    flux_or_stock: per-area values; g C m-2 yr-1 (flux) or kg C m-2 (stock, then pass
        ``grams_per_unit=1000``). Missing cells count as zero.
    area: cell areas in m2 on the same grid.
    """
    summed = (flux_or_stock * area).sum(dim=("lat", "lon"), skipna=True)
    return summed * grams_per_unit / GRAMS_PER_PETAGRAM


def global_mean(field: xr.DataArray, area: xr.DataArray) -> xr.DataArray:
    """Area-weighted mean over the cells where ``field`` is not missing (units of ``field``)."""
    weights = area.where(field.notnull())
    return (field * area).sum(("lat", "lon")) / weights.sum(("lat", "lon"))


def band_name(south: float, north: float) -> str:
    """Name of a latitude band, e.g. ``band_name(-10, 0) == "10S-EQ"``."""

    def label(lat: float) -> str:
        if lat == 0:
            return "EQ"
        return f"{abs(lat):g}{'N' if lat > 0 else 'S'}"

    return f"{label(south)}-{label(north)}"


def _band_edges(width: float) -> np.ndarray:
    """Edges of the latitude bands of ``width`` degrees, -90 to 90."""
    return np.arange(-90.0, 90.0 + width / 2, width)


def band_names(width: float = BAND_WIDTH_DEG) -> list[str]:
    """The names of :func:`latitude_band_masks`' bands, south to north, without building a mask."""
    edges = _band_edges(width)
    return [band_name(south, north) for south, north in zip(edges[:-1], edges[1:], strict=True)]


def band_rows(lat: np.ndarray, width: float = BAND_WIDTH_DEG) -> dict[str, np.ndarray]:
    """Boolean rows (one per cell-centre latitude of ``lat``) of each band of :func:`latitude_band_masks`."""
    edges = _band_edges(width)
    return {
        band_name(south, north): (lat >= south) & (lat <= north if north >= 90.0 else lat < north)
        for south, north in zip(edges[:-1], edges[1:], strict=True)
    }


def zone_rows(lat: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean rows (one per cell-centre latitude of ``lat``) of each zone of :func:`climate_zone_masks`."""
    abs_lat = np.abs(lat)
    tropical = abs_lat < TROPICAL_MAX_ABS_LAT
    boreal = abs_lat >= BOREAL_MIN_ABS_LAT
    return {"tropical": tropical, "temperate": ~tropical & ~boreal, "boreal": boreal}


def latitude_band_masks(
    lat: xr.DataArray, lon: xr.DataArray, *, width: float = BAND_WIDTH_DEG
) -> dict[str, xr.DataArray]:
    """Boolean (lat, lon) masks of latitude bands ``[south, south + width)``, south to north.

    The northernmost band includes 90 N. ``width`` must divide 180 degrees.
    """
    if _plain_lat_lon(lat, lon):
        # a 1-D lat and lon: the same comparisons on numpy arrays (band_rows), each mask a copy of one
        # template (its coordinates and their indexes are built once, not once per band)
        template = _lat_lon_template(lat, lon)
        rows = band_rows(lat.values, width)
        return {
            name: template.copy(deep=False, data=np.repeat(np.asarray(row, dtype=bool)[:, None], lon.size, axis=1))
            for name, row in rows.items()
        }
    edges = _band_edges(width)
    masks: dict[str, xr.DataArray] = {}
    for south, north in zip(edges[:-1], edges[1:], strict=True):
        upper = lat <= north if north >= 90.0 else lat < north
        in_band = (lat >= south) & upper
        masks[band_name(south, north)] = _broadcast_lat(in_band, lon)
    return masks


def climate_zone_masks(lat: xr.DataArray, lon: xr.DataArray) -> dict[str, xr.DataArray]:
    """Boolean (lat, lon) masks of the tropical, temperate and boreal zones (see module doc)."""
    abs_lat = np.abs(lat)
    tropical = abs_lat < TROPICAL_MAX_ABS_LAT
    boreal = abs_lat >= BOREAL_MIN_ABS_LAT
    zones = {"tropical": tropical, "temperate": ~tropical & ~boreal, "boreal": boreal}
    return {name: _broadcast_lat(mask, lon) for name, mask in zones.items()}


def stack_masks(masks: dict[str, xr.DataArray]) -> xr.DataArray:
    """Stack named (lat, lon) boolean masks into one (region, lat, lon) DataArray.

    Masks on one grid with only their dimension coordinates (the usual case) are stacked
    with numpy, the same result as :func:`xarray.concat` without its per-mask alignment
    (the attributes are the first mask's, as concat's default ``combine_attrs="override"``).
    """
    names = list(masks)
    first = masks[names[0]]
    if all(_same_plain_grid(masks[name], first) for name in names):
        values = np.stack([np.asarray(masks[name].values, dtype=bool) for name in names])
        coords = {**{dim: first.coords.variables[dim] for dim in first.dims}, "region": names}
        return xr.DataArray(values, dims=("region", *first.dims), coords=coords, name="region_mask", attrs=first.attrs)
    stacked = xr.concat([masks[name].astype(bool) for name in names], dim="region")
    return stacked.assign_coords(region=names).rename("region_mask")


def _same_plain_grid(mask: xr.DataArray, first: xr.DataArray) -> bool:
    """True when ``mask`` has ``first``'s dims and dimension coordinates, and no other coordinate."""
    if mask.dims != first.dims or set(mask.coords) != set(mask.dims) or set(first.coords) != set(first.dims):
        return False
    ours, theirs = mask.coords.variables, first.coords.variables
    return all(ours[dim] is theirs[dim] or ours[dim].identical(theirs[dim]) for dim in mask.dims)


def region_sums(values: xr.DataArray, regions: xr.DataArray | None = None) -> xr.DataArray:
    """Sums of ``values`` over lat/lon within each region (missing values count as zero).

    ``regions`` is a boolean (region, lat, lon) DataArray (:func:`stack_masks`), or the same
    as 0/1 floats of ``values``' dtype (not copied again: callers summing several fields
    convert it once); None sums over all cells. Computed as one matrix product, without (region, lat, lon) temporaries
    of ``values``. Units of ``values``.
    """
    values = values.fillna(0.0)
    if regions is None:
        return values.sum(("lat", "lon"))
    return xr.dot(values, regions.astype(values.dtype, copy=False), dim=("lat", "lon"))


def regional_totals(
    field: xr.DataArray, area: xr.DataArray, regions: xr.DataArray, *, grams_per_unit: float = 1.0
) -> xr.DataArray:
    """Totals of ``field * area`` over each region of ``regions`` (region, lat, lon).

    Units as :func:`global_total`: Pg C yr-1 for a flux in g C m-2 yr-1, Pg C for a stock
    in kg C m-2 with ``grams_per_unit=1000``. Missing cells count as zero.
    """
    return totals_of_sums(region_sums(field * area, regions), grams_per_unit)


def totals_of_sums(summed: xr.DataArray, grams_per_unit: float = 1.0) -> xr.DataArray:
    """Sums of ``value x area`` (value units x m2) as Pg C (yr-1) (see :func:`regional_totals`)."""
    return summed * grams_per_unit / GRAMS_PER_PETAGRAM


def regional_means(field: xr.DataArray, area: xr.DataArray, regions: xr.DataArray) -> xr.DataArray:
    """Area-weighted means of ``field`` over the non-missing cells of each region.

    Units of ``field``; NaN for a region without data.
    """
    total_weight = region_sums(area.where(field.notnull(), 0.0), regions)
    summed = region_sums(field * area, regions)
    return means_of_sums(summed, total_weight)


def means_of_sums(summed: xr.DataArray, total_weight: xr.DataArray) -> xr.DataArray:
    """Sums of ``value x area`` over the summed area of the cells with a value (NaN where none):
    the means of :func:`regional_means`, units of the value."""
    return (summed / total_weight).where(total_weight > 0)


def sums_missing_as_zero(
    values: np.ndarray, masks: np.ndarray | None = None, *, axis: int | None = None
) -> np.ndarray | np.floating:
    """Sums of the numpy array ``values`` with missing values (NaN) counted as zero, as xarray's
    ``sum`` and :func:`region_sums` take them: the one place the numpy cuts (native totals, the
    tau-bias attribution, zonal profiles) write that rule.

    With ``masks`` (0/1 floats or booleans, (region, lat, lon)): the sum of the (..., lat, lon)
    ``values`` within each region, the matrix product ``xarray.dot`` takes (einsum), shape
    (..., region); boolean masks are summed over region by region (:func:`_sums_by_region`).
    Without: ``np.sum`` over ``axis`` (every axis when None). Units of ``values``.
    """
    filled = np.where(np.isnan(values), 0.0, values)
    if masks is not None and masks.dtype == bool and masks.ndim == 3:
        return _sums_by_region(filled, masks)
    if masks is not None:
        return np.einsum("...ab,...cab->...c", filled, masks)
    return np.sum(filled, axis=axis)


#: Regions converted to float64 and summed at once by :func:`_sums_by_region` (>= 2: see there).
REGION_BLOCK = 4


def _sums_by_region(filled: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``np.einsum("...ab,...cab->...c", filled, masks.astype("float64"))`` without the float64
    copy of every mask (45 MB for 22 regions at 0.5 degree, allocated and written on each call):
    the masks are converted :data:`REGION_BLOCK` regions at a time into one reused buffer and
    contracted with the same einsum, so each region's sum is the same float, bit for bit
    (tests/test_speed_cuts.py). A block holds at least 2 regions (the last block takes a lone
    last region): with a region axis of length 1 numpy drops that axis and sums each region
    in another order (the last bits differ); fewer than 2 regions are converted at once."""
    count = masks.shape[0]
    if count < 2:
        return np.einsum("...ab,...cab->...c", filled, masks.astype("float64"))
    starts = list(range(0, count, REGION_BLOCK))
    if count - starts[-1] == 1:
        starts.pop()  # the lone last region joins the block before it
    ends = [*starts[1:], count]
    buffer = np.empty((max(e - s for s, e in zip(starts, ends, strict=True)), *masks.shape[1:]), dtype="float64")
    sums = np.empty((*filled.shape[:-2], count), dtype=np.result_type(filled, buffer))
    for start, end in zip(starts, ends, strict=True):
        block = buffer[: end - start]
        np.copyto(block, masks[start:end])  # False/True -> exactly 0.0/1.0
        sums[..., start:end] = np.einsum("...ab,...cab->...c", filled, block)
    return sums


def lat_lon_values(data: xr.DataArray, dtype: str | None = None) -> np.ndarray:
    """``data``'s values as a (lat, lon) numpy array, converted to ``dtype`` when given (else as stored)."""
    return np.asarray(data.transpose("lat", "lon").values, dtype=dtype)


def grid_values(like: xr.DataArray, *fields: xr.DataArray) -> list[np.ndarray]:
    """The (lat, lon) numpy values of ``fields``, each a map on ``like``'s grid (its lat and lon, in
    any dimension order), for metrics computed on arrays; raises ValueError for a field on another grid."""
    grid = like.coords.variables
    out = []
    for field in fields:
        if set(field.dims) != {"lat", "lon"}:
            raise ValueError(f"{field.name!r} has dims {field.dims}, not a (lat, lon) map")
        coords = field.coords.variables
        for name in ("lat", "lon"):
            if name not in coords or name not in grid:  # a map without coordinates: xarray's path aligns it
                raise ValueError(f"{field.name!r} or {like.name!r} has no {name} coordinate")
            mine, theirs = coords[name], grid[name]
            if mine is not theirs and not np.array_equal(mine.values, theirs.values):
                raise ValueError(f"{field.name!r} is not on the grid of {like.name!r}")
        out.append(field.values if field.dims == ("lat", "lon") else lat_lon_values(field))
    return out


def plain_on_grid(like: xr.DataArray, *fields: xr.DataArray) -> bool:
    """True when every one of ``fields`` is a (lat, lon) DataArray with no coordinate but lat and lon,
    on ``like``'s grid (:func:`grid_values` accepts it): the maps a metric may compute on numpy
    arrays; anything else goes through xarray's arithmetic."""
    if not all(f.dims == ("lat", "lon") and set(f.coords) <= {"lat", "lon"} for f in fields):
        return False
    try:
        grid_values(like, *fields)
    except ValueError:
        return False
    return True


def covered_areas(field: xr.DataArray, land: xr.DataArray, area: xr.DataArray) -> tuple[float, float]:
    """(the area of the ``land`` cells, the area of those where ``field`` has a value), m2: the sums
    ``area.where(land, 0.0).sum()`` and ``area.where(land & field.notnull(), 0.0).sum()``, taken on the
    numpy arrays (the same sums) when the three are (lat, lon) maps on one grid."""
    try:
        if area.dims != ("lat", "lon"):
            raise ValueError("cells in another order")
        values, mask, cells = grid_values(area, field, land, area)
    except ValueError:
        return float(area.where(land, 0.0).sum()), float(area.where(land & field.notnull(), 0.0).sum())
    on_land = mask.astype(bool)
    covered = on_land & ~np.isnan(values) if values.dtype.kind in "fc" else on_land
    return float(sums_missing_as_zero(np.where(on_land, cells, 0.0))), float(
        sums_missing_as_zero(np.where(covered, cells, 0.0))
    )


def zonal_profile(field: xr.DataArray, area: xr.DataArray) -> xr.DataArray:
    """Area-weighted mean over longitude of each latitude row (units of ``field``; NaN for a
    row without values).

    Two (lat, lon) maps (the usual case) are aligned once and averaged on their numpy arrays,
    the same numbers as the xarray expression used otherwise (sums with missing values as zero).
    """
    field, area = xr.align(field, area, join="inner", copy=False)
    if set(field.dims) != {"lat", "lon"} or set(area.dims) != {"lat", "lon"}:
        weights = area.where(field.notnull(), 0.0)
        total_weight = weights.sum("lon")
        return ((field * area).fillna(0.0).sum("lon") / total_weight).where(total_weight > 0)
    values, cells = (lat_lon_values(a) for a in (field, area))
    total_weight = sums_missing_as_zero(np.where(np.isnan(values), 0.0, cells), axis=1)
    summed = sums_missing_as_zero(values * cells, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        profile = np.where(total_weight > 0, summed / total_weight, np.nan)
    coords = {name: c for name, c in (*field.coords.items(), *area.coords.items()) if "lon" not in c.dims}
    return xr.DataArray(profile, dims=("lat",), coords=coords)


def _plain_lat_lon(lat: xr.DataArray, lon) -> bool:
    """True for a 1-D ``lat`` DataArray on dim ``lat`` and a 1-D ``lon`` DataArray on dim ``lon``."""
    arrays = isinstance(lat, xr.DataArray) and isinstance(lon, xr.DataArray)
    return arrays and lat.dims == ("lat",) and lon.dims == ("lon",)


def _lat_lon_template(lat: xr.DataArray, lon: xr.DataArray) -> xr.DataArray:
    """A (lat, lon) boolean DataArray with the coordinates and name :func:`_broadcast_lat` gives a mask of ``lat``."""
    values = np.zeros((lat.size, lon.size), dtype=bool)
    return xr.DataArray(values, dims=("lat", "lon"), coords={**lat.coords, **lon.coords}, name=lat.name)


def _broadcast_lat(mask: xr.DataArray, lon: xr.DataArray) -> xr.DataArray:
    """The (lat) boolean ``mask`` repeated along ``lon``: a (lat, lon) mask with both coordinates."""
    lon = lon if isinstance(lon, xr.DataArray) else xr.DataArray(lon, dims="lon")
    if mask.dims != ("lat",) or lon.dims != ("lon",):  # the general case: xarray broadcasts
        return (mask & xr.ones_like(lon, dtype=bool)).transpose("lat", "lon")
    values = np.repeat(np.asarray(mask.values, dtype=bool)[:, None], lon.size, axis=1)
    coords = {**mask.coords, **lon.coords}
    return xr.DataArray(values, dims=("lat", "lon"), coords=coords, name=mask.name)
