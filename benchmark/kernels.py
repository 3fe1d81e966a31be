"""Chunk kernels of the loader: fill values masked, units scaled, calendar-year means, in one pass.

Each function here runs on the values of one dask chunk (or on a whole in-memory
array): :func:`clean_values` masks fill values and scales units; :func:`year_means`
turns monthly steps into calendar-year means weighted by days per month, masking and
scaling in the same pass (:func:`year_means_values`), so the monthly values of a file
never exist as a cleaned array.
"""

from __future__ import annotations

import functools

import numpy as np
import xarray as xr

from rhbench import importcost, timeaxis
from rhbench.errors import TimeAxisError
from rhbench.readers.netcdf import TIME_CHUNK

dask_array = importcost.dask_array()

#: Values at or beyond this magnitude are missing (TRENDY's 1e20 fill without _FillValue).
FILL_MAGNITUDE = 1e19
#: Other fill values seen in TRENDY files without a _FillValue attribute.
FILL_VALUES = (-99999.0, -9999.0)


def clean_values(
    values: np.ndarray, factor: float | None = None, fills: tuple[float, ...] = (), *, overwrite: bool = False
) -> np.ndarray:
    """Fill values masked and units scaled, in one pass over a chunk (the loader's dask kernel).

    ``values`` is cast to float64 unless already floating; values with magnitude
    >= :data:`FILL_MAGNITUDE`, equal to one of :data:`FILL_VALUES` or to one of the file's
    own ``fills`` (``_FillValue``, ``missing_value``, compared before any cast) become NaN; then,
    unless ``factor`` is None, values are multiplied by ``factor`` (a multiplicative
    conversion to canonical units, applied in the data's dtype). ``values`` is not modified
    unless ``overwrite``; when nothing is masked or scaled it is returned as is.

    ``overwrite``: the caller owns ``values`` (the loader's in-memory read) and takes the result
    in their place: a writeable, C-ordered floating array is then cleaned in place, one leading
    index at a time (the same numbers, without a second full-size array or full-size masks,
    whose fresh pages cost more than the arithmetic).
    """
    values = np.asarray(values)
    if (
        overwrite
        and values.dtype.kind == "f"
        and values.ndim > 1
        and values.flags.writeable
        and values.flags.c_contiguous
    ):
        return _clean_in_place(values, factor, fills)
    bad = fill_mask(values, fills)
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype("float64")
    owned = bad.any()
    out = np.where(bad, values.dtype.type(np.nan), values) if owned else values
    if factor is not None and factor != 1.0:
        scale = values.dtype.type(factor)
        out = np.multiply(out, scale, out=out) if owned else out * scale
    return out


def _clean_in_place(values: np.ndarray, factor: float | None, fills: tuple[float, ...]) -> np.ndarray:
    """:func:`clean_values` written into ``values`` (floating, C-ordered), one leading index at a time."""
    nan = values.dtype.type(np.nan)
    scale = values.dtype.type(factor) if factor is not None and factor != 1.0 else None
    bad, scratch = np.empty(values.shape[1:], bool), np.empty(values.shape[1:], bool)
    for step in values:  # a view; the masks are one step's size, allocated once
        fill_mask(step, fills, out=bad, scratch=scratch)
        if bad.any():
            np.copyto(step, nan, where=bad)
        if scale is not None:
            np.multiply(step, scale, out=step)
    return values


def fill_mask(
    values: np.ndarray,
    fills: tuple[float, ...] = (),
    *,
    out: np.ndarray | None = None,
    scratch: np.ndarray | None = None,
) -> np.ndarray:
    """Where ``values`` are missing: magnitude >= :data:`FILL_MAGNITUDE`, a :data:`FILL_VALUES` or a ``fills``.

    Fill values are extreme: one comparison finds the high ones, a second one the candidates
    for the negative ones, and only when there is a candidate are the exact values tested,
    so the common case costs two comparisons instead of five array passes. ``out`` and
    ``scratch``: boolean arrays of ``values``' shape to reuse (the mask is written into ``out``).
    """
    bad = np.greater_equal(values, FILL_MAGNITUDE, out=out)
    scratch = np.empty(np.shape(values), bool) if scratch is None else scratch
    for fill in fills:
        bad |= np.equal(values, values.dtype.type(fill), out=scratch)
    if np.less_equal(values, -min(abs(v) for v in FILL_VALUES), out=scratch).any():
        bad |= np.less_equal(values, -FILL_MAGNITUDE, out=scratch)
        for value in FILL_VALUES:
            bad |= np.equal(values, value, out=scratch)
    return bad


def month_shares(data: xr.DataArray) -> np.ndarray | None:
    """Each step's share of its calendar year (days in month / days in year), or None if yearly.

    ``data`` is labelled by :func:`open_variable` (``year``/``month`` on ``time``, a
    ``calendar`` attribute). Raises :class:`TimeAxisError` when a year has neither 1 nor 12 steps.
    """
    years, months = data["year"].values, data["month"].values
    unique, steps_per_year = np.unique(years, return_counts=True)
    if np.all(steps_per_year == 1):
        return None
    if not np.all(steps_per_year == 12):
        short = [f"{y} has {n}" for y, n in zip(unique, steps_per_year, strict=True) if n != 12]
        listed = ", ".join(short[:5]) + (" ..." if len(short) > 5 else "")
        raise TimeAxisError(
            "incomplete years in a monthly series",
            variable=str(data.name),
            found=f"{listed} steps (first step {years[0]}-{months[0]:02d})",
            expected="12 monthly steps in every year (or one step per year): cut the series to whole years",
        )
    days = timeaxis.days_in_month(years, months, data.attrs.get("calendar", "standard"))
    return days / np.repeat(days.reshape(-1, 12).sum(axis=1), 12)


def year_means(
    data: xr.DataArray,
    share: np.ndarray,
    *,
    factor: float | None = None,
    fills: tuple[float, ...] = (),
    clean: bool = False,
) -> xr.DataArray:
    """Weighted 12-month means of monthly ``data`` (one task per dask chunk), dims ``(year, ...)``.

    ``share`` is :func:`month_shares`; with ``clean``, fill values are masked and units
    scaled by ``factor`` in the same pass (:func:`year_means_values`), so the monthly
    values never exist as an array.
    """
    axis = data.get_axis_num("time")
    values = data.data
    dtype = data.dtype if np.issubdtype(data.dtype, np.floating) else np.dtype("float64")
    kernel = functools.partial(year_means_values, share=share, axis=axis, factor=factor, fills=fills, clean=clean)
    if isinstance(values, dask_array.Array):
        if any(size % 12 for size in values.chunks[axis]):
            values = values.rechunk({axis: TIME_CHUNK})
        chunks = tuple(tuple(c // 12 for c in sizes) if i == axis else sizes for i, sizes in enumerate(values.chunks))
        mean = values.map_blocks(kernel, chunks=chunks, dtype=dtype, meta=np.array((), dtype))
    else:
        mean = kernel(np.asarray(values))
    dims = tuple("year" if d == "time" else d for d in data.dims)
    coords = {name: c for name, c in data.coords.items() if "time" not in c.dims}
    years = data["year"].values[::12]
    return xr.DataArray(mean, dims=dims, coords={**coords, "year": years}, name=data.name, attrs=data.attrs)


def year_means_values(
    values: np.ndarray,
    *,
    share: np.ndarray,
    axis: int = 0,
    factor: float | None = None,
    fills: tuple[float, ...] = (),
    clean: bool = False,
    block_info: dict | None = None,
) -> np.ndarray:
    """Sums of 12-month groups along ``axis`` weighted by ``share x factor`` (NaN if a month is).

    ``share`` covers the whole time axis; ``block_info`` (from dask) locates ``values`` in
    it. With ``clean``, values :func:`fill_mask` finds are missing. The months are
    accumulated one time step at a time, so every temporary is one step (1 MB at 0.5 deg)
    and stays in cache: a single pass over the chunk. Sums are in the data's dtype.
    """
    start, stop = block_info[0]["array-location"][axis] if block_info else (0, values.shape[axis])
    steps = np.moveaxis(np.asarray(values), axis, 0)
    dtype = steps.dtype if np.issubdtype(steps.dtype, np.floating) else np.dtype("float64")
    weights = (share[start:stop] * (1.0 if factor is None else factor)).astype(dtype)
    out = np.zeros((steps.shape[0] // 12, *steps.shape[1:]), dtype)
    term = np.empty(steps.shape[1:], dtype)
    missing = np.zeros(steps.shape[1:], bool)
    with np.errstate(over="ignore", invalid="ignore"):  # fill values x weight, masked below
        for year, total in enumerate(out):
            missing[...] = False
            for step in range(12 * year, 12 * year + 12):
                if clean:
                    missing |= fill_mask(steps[step], fills)
                np.multiply(steps[step], weights[step], out=term)
                total += term
            if clean:
                np.copyto(total, dtype.type(np.nan), where=missing)
    return np.moveaxis(out, 0, axis)


def clean(
    data: xr.DataArray, factor: float | None, fills: tuple[float, ...] = (), *, overwrite: bool = False
) -> xr.DataArray:
    """:func:`clean_values` over ``data``, one blockwise task per dask chunk.

    ``overwrite``: ``data``'s values are the caller's own (read into memory by the loader, held by
    nothing else) and are cleaned in place; never for dask-backed data (a chunk may be shared).
    """
    dtype = data.dtype if np.issubdtype(data.dtype, np.floating) else np.dtype("float64")
    overwrite = overwrite and data.chunks is None
    return xr.apply_ufunc(  # a partial of a module function: picklable for dask.distributed
        functools.partial(clean_values, factor=factor, fills=fills, overwrite=overwrite),
        data,
        dask="parallelized",
        output_dtypes=[dtype],
        keep_attrs=True,
    )


def yearly(data: xr.DataArray) -> xr.DataArray:
    """Yearly steps of data labelled by :func:`open_variable`, relabelled by year (dims ``(year, ...)``)."""
    years = data["year"].values
    return data.drop_vars(["year", "month"]).assign_coords(time=years).rename(time="year")


def nanmean_years(data: xr.DataArray) -> xr.DataArray:
    """Mean over ``year`` of the non-missing values, in float64, without a float64 copy of ``data``.

    The same numbers as ``data.astype("float64").mean("year")`` (each year's values added in
    year order into a float64 sum, divided by the count of values present; NaN where none is)
    in one pass over ``data``, one year at a time: each year is added as it is (a cell with a
    value every year gets its sum in one add a year) and the cells missing in some year are
    summed again afterwards, missing values as zero (:func:`_sums_of_partial_cells`). Units of
    ``data``; other coordinates kept.
    """
    axis = data.get_axis_num("year")
    values = np.moveaxis(np.asarray(data.values), axis, 0)
    total = np.zeros(values.shape[1:], dtype="float64")
    absent = np.zeros(values.shape[1:], dtype=np.int32)  # years without a value (4 bytes a cell, not 8)
    missing = np.empty(values.shape[1:], bool)
    for step in values:  # one year at a time through one reused mask
        np.isnan(step, out=missing)
        total += step  # NaN where a year is missing: those cells are summed again below
        absent += missing
    gaps = absent > 0
    if gaps.any():
        total[gaps] = 0.0  # (no year: 0 / 0, NaN, as the zero-filled sum gave it)
        partial = gaps & (absent < values.shape[0])
        if partial.any():
            total[partial] = _sums_of_partial_cells(values, partial)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / (values.shape[0] - absent)  # the count of values present (exact integers)
    dims = tuple(d for d in data.dims if d != "year")
    coords = {name: c for name, c in data.coords.items() if "year" not in c.dims}
    return xr.DataArray(mean, dims=dims, coords=coords, name=data.name)


#: Above this share of cells missing in some year (but not all), :func:`_sums_of_partial_cells` sums every
#: cell again in place rather than copying those cells out (gathering scattered cells costs more).
PARTIAL_GATHER_SHARE = 1 / 16


def _sums_of_partial_cells(values: np.ndarray, cells: np.ndarray) -> np.ndarray:
    """The float64 sums over the leading (year) axis of ``values`` at the boolean ``cells``, each
    year added in year order with a missing value (NaN) as zero (the same float, bit for bit, as
    the zero-filled sum of every cell): a copy of those cells only, or, when they are more than
    :data:`PARTIAL_GATHER_SHARE` of the cells, every cell summed again through two reused buffers."""
    zero = values.dtype.type(0)
    if np.count_nonzero(cells) > PARTIAL_GATHER_SHARE * cells.size:
        total = np.zeros(values.shape[1:], dtype="float64")
        missing, term = np.empty(values.shape[1:], bool), np.empty(values.shape[1:], values.dtype)
        for step in values:
            np.isnan(step, out=missing)
            np.copyto(term, step)
            np.copyto(term, zero, where=missing)
            total += term
        return total[cells]
    chosen = values[:, cells]  # (year, cell)
    total = np.zeros(chosen.shape[1], dtype="float64")
    for step in chosen:
        total += np.where(np.isnan(step), zero, step)
    return total


def years_with_values(data: xr.DataArray) -> np.ndarray:
    """One flag per ``year`` of ``data``: the year has a value in some cell (``data.notnull().any(other
    dims)``), found one year at a time through a reused buffer for values in memory (a dask array:
    its own reduction)."""
    other = [d for d in data.dims if d != "year"]
    if data.chunks is not None or data.dtype.kind not in "fc":
        return np.asarray(data.notnull().any(other).transpose("year").values, dtype=bool)
    values = np.asarray(data.transpose("year", *other).values)
    missing = np.empty(values.shape[1:], dtype=bool)
    flags = np.zeros(values.shape[0], dtype=bool)
    for index, step in enumerate(values):
        np.isnan(step, out=missing)
        flags[index] = not missing.all()
    return flags
