"""Cell area x land fraction of a source's native grid: the weights of every total.

A model's totals are sums of ``value x cell area x land fraction`` over its own cells
(:func:`rhbench.metrics.totals.native_totals`). Where each factor comes from, in order:

1. the source's own cell measures, declared like any variable: ``areacella`` (m2) and
   ``sftlf`` (land fraction; CMIP6 writes %, converted to 0-1 by the units module) or
   ``oceanCoverFrac`` (land = 1 - ocean), e.g. a CMIP6 ``fx`` file or a TRENDY model's
   ``landfrac``/``oceanCoverFrac`` declared by its plugin; or TRENDY's ``landArea`` (land
   area of each cell, m2), which gives the land fraction as ``landArea / cell area`` (not
   clipped above 1, so that the weights are the stated land areas exactly; refused above 1.5 or
   never above 0.01: land areas not in the unit the file states, :func:`land_share`);
2. else, for the area, the spherical cell areas from the file's latitude and longitude
   bounds when it has them (CMOR ``lat_bnds``/``lon_bnds``, :func:`file_bounds`,
   :func:`rhbench.grid.cell_area_from_bounds`), else of :func:`rhbench.grid.cell_area`
   (edges half way between centres; exact for regular grids, not for Gaussian ones);
3. else, for the land fraction, the documented land mask: the 0.5 degree fractional-land
   grid shipped with SRDB (source ``land-fraction``, ``rhbench fetch land-fraction``),
   remapped conservatively onto the native grid;
4. else every cell where the model has data (any variable, any year) counts as all land
   (said in ``origin``): :meth:`CellMeasures.resolved` sets it once the fields are read.

A provided ``areacella`` whose sum differs from the sphere's 4 pi R^2 by more than
:data:`AREA_SUM_RTOL` is reported (a decimated or regional file): the warning names the
file and both sums, and every row computed from the totals says so (:func:`note_area_sums`).
Totals still use it: it is the source's own statement of its areas.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from rhbench import grid, regrid
from rhbench.errors import DataError, ValueRangeError
from rhbench.readers import geotiff, netcdf

if TYPE_CHECKING:
    from rhbench.results import ScoreRow

log = logging.getLogger(__name__)

#: Relative tolerance of the sum of a provided areacella against 4 pi R^2.
AREA_SUM_RTOL = 0.01
#: Canonical names of the cell measures a source may declare (not benchmarked themselves).
CELL_MEASURES = ("areacella", "sftlf", "oceanCoverFrac", "landArea")
SPHERE_AREA_M2 = 4.0 * np.pi * grid.EARTH_RADIUS_M**2


@dataclass(frozen=True)
class CellMeasures:
    """Cell area and land fraction on one native grid.

    Attributes
    ----------
    area: (lat, lon) cell area, m2.
    land: (lat, lon) land fraction, 0-1; NaN counts as 0. None until :meth:`resolved`
        when nothing gives a land fraction.
    origin: where both came from, for the run record and the log.
    area_sum_error: relative difference of ``area``'s sum from 4 pi R^2 (provided areas).
    """

    area: xr.DataArray
    land: xr.DataArray | None
    origin: str
    area_sum_error: float = 0.0

    @property
    def weights(self) -> xr.DataArray:
        """Land area of each cell, m2 (area x land fraction); call :meth:`resolved` first."""
        if self.land is None:
            raise ValueError("land fraction not resolved: call CellMeasures.resolved(fields)")
        return (self.area * self.land.fillna(0.0)).rename("land_area").assign_attrs(units="m2")

    def resolved(self, fields: xr.Dataset) -> CellMeasures:
        """``self``, or, without a land fraction, land = 1 where any of ``fields`` has a value other
        than 0 in some year. A cell where every variable is 0 (or missing) in every year is the ocean
        written as 0 rather than as missing (twelfth audit, B12-5: counted as land, its zeros diluted
        every mean per land area, rh_mean -17 %); it is not land, said in a warning."""
        if self.land is not None:
            return self
        valid = xr.zeros_like(self.area, dtype=bool)
        written = xr.zeros_like(self.area, dtype=bool)
        for var in fields.data_vars.values():  # each its own time dims: a static map beside series
            dims = [d for d in ("year", "time") if d in var.dims]
            if set(var.dims) == {*dims, "lat", "lon"} and valid.dims == ("lat", "lon"):
                present, has = _written_cells(np.asarray(var.transpose(*dims, "lat", "lon").values))
            else:
                present = (var.notnull() & (var != 0)).any(dims) if dims else var.notnull() & (var != 0)
                has = var.notnull().any(dims) if dims else var.notnull()
                present, has = (a.transpose("lat", "lon").values for a in (present, has))
            valid = valid | present
            written = written | has
        zeros = int((written & ~valid).sum())
        if zeros:
            log.warning(
                "%s: no land fraction, and %d of %d cells hold 0 in every variable and year (the ocean written as "
                "0, not missing?): not counted as land (declare sftlf or landArea to weigh cells otherwise)",
                fields.attrs.get("source", "a source"),
                zeros,
                int(written.sum()),
            )
        land = valid.astype("float64").rename("land_fraction")
        return CellMeasures(self.area, land, self.origin, self.area_sum_error)


def _written_cells(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(cells with a value other than 0 in some step, cells with any value) of ``values`` (steps..., lat,
    lon), as ``(notnull & != 0).any(steps)`` and ``notnull.any(steps)``, one (lat, lon) step at a time
    through reused buffers (no full-size boolean temporaries)."""
    steps = values.reshape(-1, *values.shape[-2:])
    present, has = np.zeros(values.shape[-2:], dtype=bool), np.zeros(values.shape[-2:], dtype=bool)
    numbers, nonzero = np.empty_like(present), np.empty_like(present)
    for step in steps:
        np.equal(step, step, out=numbers)  # False where NaN (a missing value)
        np.not_equal(step, 0, out=nonzero)
        nonzero &= numbers
        present |= nonzero
        has |= numbers
    return present, has


def area_sum_error(area: xr.DataArray, *, source: str | None = None, file: str | None = None) -> float:
    """Relative difference of ``area``'s sum from 4 pi R^2; logs a warning beyond :data:`AREA_SUM_RTOL`."""
    total = float(np.nansum(area.values))
    error = total / SPHERE_AREA_M2 - 1.0
    if abs(error) > AREA_SUM_RTOL:
        log.warning(
            "areacella of %s (%s) sums to %.4g m2, %.1f %% of the sphere's 4 pi R^2 = %.4g m2: "
            "a decimated, regional or wrong cell-area file (totals use it as given)",
            source,
            file,
            total,
            100.0 * (1.0 + error),
            SPHERE_AREA_M2,
        )
    return error


def note_area_sums(rows: list[ScoreRow], regions: dict[str, xr.Dataset | None]) -> list[ScoreRow]:
    """``rows``, those computed from a source's native totals (``regions[source]``, whose
    ``area_sum_error`` attribute is :attr:`CellMeasures.area_sum_error`) saying that its
    areacella does not sum to the sphere's area: the number is right for the areas given, and
    wrong by that factor if they are a decimated copy (the CMIP6 sample: 2.3 %)."""
    from rhbench.metrics.suite import FROM_TOTALS

    notes = {}
    for name, summary in regions.items():
        error = 0.0 if summary is None else float(summary.attrs.get("area_sum_error", 0.0))
        if abs(error) > AREA_SUM_RTOL:
            notes[name] = (
                f"the source's areacella sums to {100.0 * (1.0 + error):.1f} % of the sphere's area: totals use "
                "it as given (a regional, decimated or wrong cell-area file)"
            )
    return [
        replace(row, reason="; ".join(filter(None, (row.reason, notes[row.source]))))
        if row.source in notes and row.metric in FROM_TOTALS and notes[row.source] not in row.reason
        else row
        for row in rows
    ]


def _on_grid(field: xr.DataArray, like: xr.DataArray) -> xr.DataArray:
    """A (lat, lon) field checked to sit on ``like``'s grid, with ``like``'s coordinates."""
    extra = [d for d in field.dims if d not in ("lat", "lon") and field.sizes[d] == 1]
    field = field.squeeze(extra, drop=True)  # a 1-row or 1-cell grid keeps its lat/lon
    why = grid.grid_mismatch(field, like)  # float32 rounding of one grid passes, a real offset does not
    if why is not None:
        raise ValueError(f"{field.name} not on the data's grid: {why}")
    return field.assign_coords(lat=like["lat"].values, lon=like["lon"].values)


def measures(
    like: xr.DataArray,
    *,
    areacella: xr.DataArray | None = None,
    sftlf: xr.DataArray | None = None,
    ocean: xr.DataArray | None = None,
    land_mask: xr.DataArray | None = None,
    land_area: xr.DataArray | None = None,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
    source: str | None = None,
    area_file: str | None = None,
    land_file: str | None = None,
) -> CellMeasures:
    """The :class:`CellMeasures` of ``like``'s grid from whatever is available (see module doc).

    ``areacella`` in m2, ``sftlf``/``ocean`` in 0-1, ``land_area`` (TRENDY ``landArea``) in
    m2, on ``like``'s grid (canonical units, as the loader returns them); ``land_mask`` a
    (lat, lon) land fraction 0-1 on any regular grid (the documented mask); ``bounds`` the
    (lat, lon) cell bounds of :func:`file_bounds`, used for the areas without ``areacella``.
    Raises ValueError when a measure is on another grid, :class:`ValueRangeError` naming ``land_file``
    when ``land_area`` is not in m2 (:func:`land_share`).
    """
    origin = []
    error = 0.0
    if areacella is not None:
        area = _on_grid(areacella, like).astype("float64")
        error = area_sum_error(area, source=source, file=area_file)
        origin.append("areacella from the source")
    elif bounds is not None:
        area = grid.cell_area_from_bounds(like["lat"].values, like["lon"].values, *bounds)
        origin.append("spherical cell areas from the file's lat/lon bounds")
    else:
        area = grid.cell_area(like["lat"], like["lon"])
        origin.append("spherical cell areas")
    if sftlf is not None:
        land = _on_grid(sftlf, like).astype("float64").clip(0.0, 1.0)
        origin.append("land fraction from the source")
    elif land_area is not None:
        land = land_share(_on_grid(land_area, like).astype("float64").clip(min=0.0), area, source, land_file)
        origin.append("land fraction = landArea / cell area from the source")
    elif ocean is not None:
        land = (1.0 - _on_grid(ocean, like).astype("float64")).clip(0.0, 1.0)
        origin.append("land fraction = 1 - ocean fraction from the source")
    elif land_mask is not None:
        target = xr.Dataset(coords={"lat": like["lat"].values, "lon": like["lon"].values})
        land = regrid.conservative_mean(land_mask.astype("float64"), target).fillna(0.0)
        origin.append("land fraction from the documented 0.5 degree land mask")
    else:
        land = None
        origin.append("no land fraction: every cell with data counted as land")
    area = area.assign_coords(lat=like["lat"].values, lon=like["lon"].values)
    if land is not None:
        land = land.assign_coords(lat=like["lat"].values, lon=like["lon"].values).rename("land_fraction").load()
    return CellMeasures(area.rename("cell_area").load(), land, "; ".join(origin), error)


#: The largest landArea / cell area accepted: above, the land areas are not in m2 (km2 values
#: labelled m2 read 1e-6; m2 labelled km2 read 1e6) or not land areas at all.
LAND_SHARE_REFUSED_ABOVE = 1.5


def land_share(stated: xr.DataArray, area: xr.DataArray, source: str | None, file: str | None) -> xr.DataArray:
    """``stated`` land areas (m2, canonical) over the cell ``area`` (m2): the land fraction, not
    clipped (the weights stay the stated areas). Raises :class:`ValueRangeError` naming ``file``
    when its maximum is above :data:`LAND_SHARE_REFUSED_ABOVE` or in (0, 0.01]: land areas in
    another unit than the file says (a factor 1e6 for km2 vs m2) or land fractions labelled m2."""
    land = stated / area.where(area > 0)
    top = float(land.max()) if land.size else 0.0
    found = f"max landArea / cell area = {top:.4g} (landArea read in m2)"
    where = {"source": source, "file": file, "variable": "landArea", "found": found}
    expected = "each cell's land area in m2, at most its cell's area (ratio 0..1)"
    if top > LAND_SHARE_REFUSED_ABOVE:
        raise ValueRangeError(
            "land areas larger than their cells: not in the units the file states?", expected=expected,
            hint="label the units as the values are: 'm2', or 'km2' for km2 (a ratio near 1e6: m2 values labelled "
            "'km2')", **where,
        )  # fmt: skip
    if top <= 0.01:
        raise ValueRangeError(
            "land areas never above 1 % of their cells (or no land at all): not in the units the file states?",
            expected=expected,
            hint="label the units as the values are: 'km2' for km2 (a ratio near 1e-6: km2 values labelled 'm2'); "
            "a 0-1 land fraction belongs in sftlf/landfrac (units '1'), not landArea", **where,
        )  # fmt: skip
    return land


#: Wanted centres compared at a time by :func:`_aligned` (a block x file centres array).
_ALIGN_BLOCK = 256


def file_bounds(path: str | Path, like: xr.DataArray) -> tuple[np.ndarray, np.ndarray] | None:
    """The (lat (n, 2), lon (m, 2)) cell bounds in ``path`` (degrees), in the order of ``like``'s
    ascending lat / [-180, 180) lon; None when the file has none or they do not match its centres.

    A coordinate's bounds are the variable its ``bounds`` attribute names, else ``<name>_bnds``.
    Read by the netCDF reader (netCDF4 engine, named: xarray would otherwise load every installed
    backend, rioxarray's imports of rasterio and boto3 included; ``.nc.gz`` decompressed once);
    a file it cannot read has no bounds,
    nor has a GeoTIFF (its cells are regular: the midpoints between centres are its bounds).
    """
    if geotiff.is_geotiff(Path(path)):  # a raster: regular cells, bounds are the midpoints
        return None
    try:
        try:  # as stored, with netCDF4 alone (the same numbers for bounds without fill values or scales)
            with netcdf.open_stored(Path(path)) as ds:
                found = _bounds_in(ds.variables, lambda v: {a: v.getncattr(a) for a in v.ncattrs()}, like)
        except netcdf.NeedsDecoding:
            with netcdf.open_file(Path(path)) as ds:  # plain or gzipped netCDF, decoded by xarray
                found = _bounds_in(ds.variables, lambda v: v.attrs, like)
    except (OSError, ValueError, RuntimeError, DataError) as exc:  # netCDF4's read errors are RuntimeErrors
        log.info("no cell bounds read from %s: %s", path, exc)
        return None
    if found is None:
        return None
    if any(b is None for b in found):
        log.info("cell bounds of %s do not match its centres: cell areas from midpoints", path)
        return None
    return found[0], found[1]


def _bounds_in(variables, attrs, like: xr.DataArray) -> list[np.ndarray | None] | None:
    """:func:`file_bounds`' (lat, lon) bounds among ``variables`` (a file's, netCDF4's or xarray's,
    ``attrs(variable)`` their attributes), each None when not matching its centres; None without bounds."""
    found = []
    for dim, names in (("lat", ("lat", "latitude")), ("lon", ("lon", "longitude"))):
        name = next((n for n in names if n in variables), None)
        if name is None:
            return None
        bnds = attrs(variables[name]).get("bounds", f"{name}_bnds")
        if bnds not in variables or variables[bnds].ndim != 2:
            return None
        centres, bounds = (_values(variables[n]) for n in (name, bnds))
        found.append(_aligned(centres, bounds, like[dim].values, dim == "lon"))
    return found


def _values(variable) -> np.ndarray:
    """An xarray variable's values, or a netCDF4 variable's as stored (:func:`rhbench.readers.netcdf.stored_values`)."""
    return np.asarray(variable.values if isinstance(variable, xr.Variable) else netcdf.stored_values(variable))


def _aligned(centres: np.ndarray, bounds: np.ndarray, wanted: np.ndarray, periodic: bool) -> np.ndarray | None:
    """Rows of ``bounds`` for each of ``wanted`` (the file's ``centres`` reordered, lon modulo 360).

    Each wanted centre takes the row of the nearest file centre (the first of equals), and
    None is returned when one is more than 1e-6 degree from every file centre. Compared in
    blocks of :data:`_ALIGN_BLOCK` wanted centres at a time (bounded memory on fine grids).
    """
    if _in_wanted_order(centres, wanted, periodic):  # each wanted centre's nearest is its own row
        return np.array(bounds, dtype=float)
    index = np.empty(wanted.size, dtype=np.intp)
    for start in range(0, wanted.size, _ALIGN_BLOCK):
        block = wanted[start : start + _ALIGN_BLOCK, None]
        diff = (centres - block + 180.0) % 360.0 - 180.0 if periodic else centres - block
        nearest = np.argmin(np.abs(diff), axis=1)
        if np.any(np.abs(np.take_along_axis(diff, nearest[:, None], axis=1)) > 1e-6):
            return None
        index[start : start + _ALIGN_BLOCK] = nearest
    return np.asarray(bounds[index], dtype=float) if wanted.size else np.asarray([], dtype=float)


def _in_wanted_order(centres: np.ndarray, wanted: np.ndarray, periodic: bool) -> bool:
    """True when the file's ``centres`` are the ``wanted`` ones, in their order, ascending more than the
    1e-6 degree tolerance apart (for lon also within 360 degrees): each wanted centre is then nearest
    to its own row and to no other, so :func:`_aligned` needs no search (the usual case: the
    loader's grid is the file's)."""
    if centres.shape != wanted.shape or centres.ndim != 1 or not centres.size or not np.array_equal(centres, wanted):
        return False
    ascending = centres.size < 2 or bool(np.all(np.diff(centres.astype(float)) > 1e-6))
    return ascending and (not periodic or float(centres[-1]) - float(centres[0]) < 360.0)
