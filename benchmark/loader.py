"""Open one variable of one source from its file, lazily, and put it on rhbench's conventions.

This is the only place that reads data files. It handles the file quirks of TRENDY and
observation products: gzipped files, odd coordinate names and conventions, undecodable
time units, calendars, fill values without ``_FillValue``; it checks units and converts
to the canonical units. The result is a dask-backed DataArray with dims
``([time,] [extra,] lat, lon)`` and, when there is a time axis, ``year``/``month``
coordinates on ``time``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import dask.array as dask_array
import numpy as np
import xarray as xr

from rhbench import geotiff, grid, timeaxis, units
from rhbench.errors import (
    DataError,
    MissingVariableError,
    PluginError,
    RhbenchError,
    TimeAxisError,
    ValueRangeError,
)
from rhbench.fileops import CACHE_ENV, cache_dir  # noqa: F401  (re-exported: the one cache folder)
from rhbench.sources import Source

log = logging.getLogger(__name__)

#: Values at or beyond this magnitude are missing (TRENDY's 1e20 fill without _FillValue).
FILL_MAGNITUDE = 1e19
#: Other fill values seen in TRENDY files without a _FillValue attribute.
FILL_VALUES = (-99999.0, -9999.0)
#: Time steps per dask chunk, set when a file is opened (lat/lon are never split).
#: Why 24: a multiple of 12, so a chunk of monthly data holds whole years and annual means
#: never straddle chunks; a 0.5-degree float32 step is 1 MB, so a chunk is one ~25 MB
#: read (contiguous in TRENDY-like files), large enough that dask's per-task overhead
#: (~1 ms) is negligible next to the read, small enough that two threads with their
#: intermediates (one chunk plus one-step temporaries) stay well under 1 GB. Whole lat/lon because every
#: reduction (annual means, period means, totals) runs over time or over the whole map.
#: Files chunked on disk one step at a time are read 24 steps per task. Measured (before the
#: single-pass kernel of :func:`year_means_values`; one
#: full-size synthetic model, 8.8 GB, cold page cache, 2 threads): 12 steps 13.6-15.3 s,
#: 24 steps 11.8-13.2 s, 72 steps 15.2 s, 120 steps 17.9 s; peak RSS 1.1, 1.1, 1.5, 1.7 GB.
TIME_CHUNK = 24
#: Plausible range of the median of a variable's non-missing, non-zero values, in canonical
#: units. A median outside it is most likely a units error (e.g. a factor 1000): warned, not fatal.
PLAUSIBLE_MEDIAN: dict[str, tuple[float, float]] = {
    "rh": (1.0, 5000.0),
    "npp": (1.0, 5000.0),
    "fVegLitter": (1.0, 5000.0),
    "cSoil": (0.1, 500.0),
    "cLitter": (0.005, 50.0),
    "cVeg": (0.01, 300.0),
    "pr": (10.0, 10000.0),
}
#: Variables that cannot be negative. A value is negative when below -1e-6 times the median
#: absolute value (rounding noise passes); more than 1 % negative values is an error.
NON_NEGATIVE = ("rh", "fVegLitter", "cSoil", "cLitter", "cVeg", "pr", "landCoverFrac")
NEGATIVE_TOLERANCE = 1e-6
NEGATIVE_SHARE_MAX = 0.01
_TIME_NAMES = ("time", "Time", "TIME", "t")
#: Dask chunks at open (see :data:`TIME_CHUNK`); names absent from a file are ignored.
_CHUNKS = {**dict.fromkeys(_TIME_NAMES, TIME_CHUNK), **dict.fromkeys((*grid._LAT_NAMES, *grid._LON_NAMES), -1)}


def _gunzipped(path: Path) -> Path:
    """A decompressed copy of a ``.nc.gz`` file, cached by path, size and modification time."""
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:20]
    target = cache_dir() / "gunzip" / f"{key}.nc"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out, gzip.open(path, "rb") as src:
                shutil.copyfileobj(src, out, length=1 << 22)
            os.replace(temp, target)
        except (OSError, EOFError) as exc:
            Path(temp).unlink(missing_ok=True)
            raise DataError(f"cannot decompress gzipped file: {exc}", file=str(path)) from exc
    return target


def open_dataset(
    path: Path, *, source: str | None = None, variable: str | None = None, raw_values: bool = False
) -> xr.Dataset:
    """Open a netCDF (or gzipped netCDF) file lazily with times left undecoded.

    With ``raw_values``, ``variable``'s values are not masked or scaled by xarray
    (``_FillValue`` stays in its attributes): :func:`open_variable` masks them in its own
    single pass (:func:`clean_values`) instead of in an extra one.

    A GeoTIFF (``.tif``/``.tiff``) is read by :func:`rhbench.geotiff.open_geotiff`, its
    raster named ``variable`` (default: the file stem). Raises :class:`DataError` naming
    the file when it is missing, empty or corrupt.
    """
    if not path.exists():
        raise DataError("data file not found", source=source, file=str(path))
    if path.stat().st_size == 0:
        raise DataError("data file is empty", source=source, file=str(path), found="0 bytes")
    if geotiff.is_geotiff(path):
        return geotiff.open_geotiff(path, variable or path.stem, source=source)
    readable = _gunzipped(path) if path.suffix == ".gz" else path
    try:
        mask_and_scale = {variable: False} if raw_values and variable else True
        return xr.open_dataset(
            readable, decode_times=False, chunks=_CHUNKS, engine="netcdf4", mask_and_scale=mask_and_scale
        )
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise DataError(
            f"cannot read file as netCDF ({type(exc).__name__}: {exc})",
            source=source,
            file=str(path),
            expected="a netCDF-3/4 file",
        ) from exc


def clean_values(values: np.ndarray, factor: float | None = None, fills: tuple[float, ...] = ()) -> np.ndarray:
    """Fill values masked and units scaled, in one pass over a chunk (the loader's dask kernel).

    ``values`` is cast to float64 unless already floating; values with magnitude
    >= :data:`FILL_MAGNITUDE`, equal to one of :data:`FILL_VALUES` or to one of the file's
    own ``fills`` (``_FillValue``, ``missing_value``, compared before any cast) become NaN; then,
    unless ``factor`` is None, values are multiplied by ``factor`` (a multiplicative
    conversion to canonical units, applied in the data's dtype). ``values`` is never
    modified; when nothing is masked or scaled it is returned as is.
    """
    values = np.asarray(values)
    bad = fill_mask(values, fills)
    if not np.issubdtype(values.dtype, np.floating):
        values = values.astype("float64")
    owned = bad.any()
    out = np.where(bad, values.dtype.type(np.nan), values) if owned else values
    if factor is not None and factor != 1.0:
        scale = values.dtype.type(factor)
        out = np.multiply(out, scale, out=out) if owned else out * scale
    return out


def fill_mask(values: np.ndarray, fills: tuple[float, ...] = ()) -> np.ndarray:
    """Where ``values`` are missing: magnitude >= :data:`FILL_MAGNITUDE`, a :data:`FILL_VALUES` or a ``fills``.

    Fill values are extreme: one comparison finds the high ones, a second one the candidates
    for the negative ones, and only when there is a candidate are the exact values tested,
    so the common case costs two comparisons instead of five array passes.
    """
    bad = values >= FILL_MAGNITUDE
    for fill in fills:
        bad |= values == values.dtype.type(fill)
    low = values <= -min(abs(v) for v in FILL_VALUES)
    if low.any():
        bad |= values <= -FILL_MAGNITUDE
        for value in FILL_VALUES:
            bad |= values == value
    return bad


def month_shares(data: xr.DataArray) -> np.ndarray | None:
    """Each step's share of its calendar year (days in month / days in year), or None if yearly.

    ``data`` is labelled by :func:`open_variable` (``year``/``month`` on ``time``, a
    ``calendar`` attribute). Raises :class:`TimeAxisError` when a year has neither 1 nor 12 steps.
    """
    years, months = data["year"].values, data["month"].values
    _, steps_per_year = np.unique(years, return_counts=True)
    if np.all(steps_per_year == 1):
        return None
    if not np.all(steps_per_year == 12):
        raise TimeAxisError(
            "incomplete years in a monthly series",
            variable=str(data.name),
            found=f"{steps_per_year.min()}..{steps_per_year.max()} steps per year",
            expected="12 monthly steps in every year (or one step per year)",
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


def _clean(data: xr.DataArray, factor: float | None, fills: tuple[float, ...] = ()) -> xr.DataArray:
    """:func:`clean_values` over ``data``, one blockwise task per dask chunk."""
    dtype = data.dtype if np.issubdtype(data.dtype, np.floating) else np.dtype("float64")
    return xr.apply_ufunc(  # a partial of a module function: picklable for dask.distributed
        functools.partial(clean_values, factor=factor, fills=fills),
        data,
        dask="parallelized",
        output_dtypes=[dtype],
        keep_attrs=True,
    )


#: Attributes of packed or unsigned data: such a variable is decoded by xarray, not by the loader.
_PACKING_ATTRS = ("scale_factor", "add_offset", "_Unsigned")


def _fill_values(ds: xr.Dataset, name: str) -> tuple[xr.Dataset, tuple[float, ...]]:
    """``ds`` with ``name``'s ``_FillValue``/``missing_value`` taken out of its attributes.

    Returns them (those :func:`clean_values` does not mask anyway) for the loader to mask.
    A packed variable (scale_factor, add_offset, _Unsigned) is decoded lazily by xarray
    instead, exactly as :func:`xarray.open_dataset` would have.
    """
    var = ds[name].variable
    if any(key in var.attrs for key in _PACKING_ATTRS):
        return ds.assign({name: xr.conventions.decode_cf_variable(name, var)}), ()
    attrs = dict(var.attrs)
    found = np.ravel([attrs.pop(key) for key in ("_FillValue", "missing_value") if key in attrs])
    fills = tuple(float(f) for f in found if np.isfinite(f) and abs(f) < FILL_MAGNITUDE and float(f) not in FILL_VALUES)
    return ds.assign({name: xr.Variable(var.dims, var.data, attrs, var.encoding)}), fills


def _unit_factor(data: xr.DataArray, variable: str, declared: str, *, source: str, file: str) -> float | None:
    """The factor converting ``data``'s units to ``variable``'s canonical units; None for offset units.

    The units are checked by :func:`rhbench.units.convert` (the same errors as for the
    data) on the probe values 0 and 1: a conversion that keeps 0 at 0 is multiplicative
    and its factor is the converted 1.
    """
    probe = xr.DataArray(np.array([0.0, 1.0]), dims="probe", name=variable, attrs=data.attrs)
    zero, one = units.convert(
        probe, units.canonical_units(variable), declared=declared, source=source, file=file
    ).values
    return float(one) if zero == 0.0 else None


def _read_sample(data: xr.DataArray, *, source: str, file: str) -> xr.DataArray:
    """The first, middle and last time steps of ``data`` (first index of other non-grid dims).

    Each step is read as one integer slice of the freshly opened variable, so only those
    steps leave the disk. Raises :class:`DataError` when the values cannot be read
    (e.g. a truncated file).
    """
    spatial = set(grid._LAT_NAMES) | set(grid._LON_NAMES)
    fixed = {dim: 0 for dim in data.dims if dim not in spatial and dim not in _TIME_NAMES}
    time_dim = next((dim for dim in data.dims if dim in _TIME_NAMES), None)
    steps = sorted({0, data.sizes[time_dim] // 2, data.sizes[time_dim] - 1}) if time_dim else [None]
    try:
        slices = [data.isel(fixed if step is None else {**fixed, time_dim: step}).values for step in steps if data.size]
    except Exception as exc:  # netCDF/HDF5 raise assorted errors on truncated data
        raise DataError(
            f"cannot read data values ({type(exc).__name__}: {exc})",
            source=source,
            file=file,
            variable=str(data.name),
            expected="a complete netCDF file",
        ) from exc
    values = np.concatenate([np.ravel(s) for s in slices]) if slices else np.array([])
    return xr.DataArray(values, dims="sample", name=data.name, attrs=data.attrs)


def check_values(sample: np.ndarray, variable: str, *, source: str | None = None, file: str | None = None) -> None:
    """Check sampled values of a variable, in canonical units, for impossible or odd values.

    Raises :class:`ValueRangeError` when every value is missing, or when more than
    :data:`NEGATIVE_SHARE_MAX` of the values of a :data:`NON_NEGATIVE` variable are negative.
    Logs a warning (likely units error) when the median of the non-missing, non-zero values
    is outside :data:`PLAUSIBLE_MEDIAN`.
    """
    where = {"source": source, "file": file, "variable": variable}
    target = units.CANONICAL_UNITS.get(variable, "")
    finite = sample[np.isfinite(sample)]
    if finite.size == 0:
        raise ValueRangeError(
            "all values are missing (NaN or fill value)",
            found=f"0 of {sample.size} sampled values valid",
            expected="some non-missing values",
            **where,
        )
    nonzero = finite[finite != 0]
    scale = float(np.median(np.abs(nonzero))) if nonzero.size else 0.0
    if variable in NON_NEGATIVE:
        share = float(np.mean(finite < -NEGATIVE_TOLERANCE * scale))
        if share > NEGATIVE_SHARE_MAX:
            raise ValueRangeError(
                "negative values in a variable that cannot be negative",
                found=f"{share:.1%} of values negative (min {finite.min():.4g} {target})",
                expected=f"values >= 0 (at most {NEGATIVE_SHARE_MAX:.0%} negative)",
                **where,
            )
    low, high = PLAUSIBLE_MEDIAN.get(variable, (0.0, np.inf))
    median = float(np.median(nonzero)) if nonzero.size else 0.0
    if nonzero.size and not low <= median <= high:
        log.warning(
            "%s",
            ValueRangeError(
                "implausible values, likely a units error (e.g. a factor 1000)",
                found=f"median {median:.4g} {target}",
                expected=f"median in {low:g}..{high:g} {target}",
                **where,
            ),
        )


def _label_time(data: xr.DataArray, ds: xr.Dataset, *, source: str, file: str) -> xr.DataArray:
    time_name = next((n for n in ("time", "Time", "TIME", "t") if n in data.dims), None)
    if time_name is None:
        return data
    if time_name != "time":
        data = data.rename({time_name: "time"})
    raw_time = ds[time_name] if time_name in ds.variables else data["time"]
    labels = timeaxis.decode_time(raw_time, file=file, variable=str(data.name))
    timeaxis.check_monotonic(labels, file=file, variable=str(data.name))
    return data.assign_coords(
        time=np.arange(data.sizes["time"]),
        year=("time", labels.year),
        month=("time", labels.month),
    ).assign_attrs(calendar=labels.calendar)


def open_variable(source: Source, variable: str, path: Path, *, annual: bool = False) -> xr.DataArray:
    """One canonical variable of ``source`` from ``path``: checked, converted, lazily.

    Returns a DataArray named ``variable`` in canonical units with ``lat`` ascending and
    ``lon`` in [-180, 180). With ``annual``, monthly data become calendar-year means
    (:func:`rhbench.harmonize.annual_mean`, dims ``(year, ...)``) computed in the same
    pass over each chunk as the masking and the units conversion. Raises a
    :class:`~rhbench.errors.RhbenchError` subclass whose message names the source, file
    and variable.

    Each chunk of the file is read, masked, scaled (and averaged over months) in one dask
    task; the coordinates are put in order (:func:`rhbench.grid.normalize_coordinates`)
    afterwards, on the 12 times smaller annual means when ``annual``.
    """
    spec = source.variables[variable]
    file = str(path)
    try:
        # a plugin's preprocess sees the values as xarray decodes them; otherwise the fill
        # values are masked in the loader's single pass (see open_dataset)
        ds = open_dataset(path, source=source.name, variable=spec.file_name, raw_values=source.preprocess is None)
        if source.preprocess is not None:
            ds = source.preprocess(ds)
            if not isinstance(ds, xr.Dataset):
                raise PluginError(
                    "preprocess must return an xarray.Dataset",
                    source=source.name,
                    file=file,
                    found=type(ds).__name__,
                    expected="xarray.Dataset",
                )
        if spec.file_name not in ds.variables:
            raise MissingVariableError(
                "variable not in file",
                source=source.name,
                file=file,
                variable=spec.file_name,
                found=sorted(map(str, ds.data_vars)),
                expected=spec.file_name,
            )
        ds, fills = _fill_values(ds, spec.file_name)
        sample = _read_sample(ds[spec.file_name], source=source.name, file=file)
        grid.rename_coordinates(ds, source=source.name, file=file)  # fail early, before any work
        raw = ds[spec.file_name].rename(variable)
        raw.attrs = dict(ds[spec.file_name].attrs)
        raw = _label_time(raw, ds, source=source.name, file=file)
        target = units.canonical_units(variable)
        factor = _unit_factor(raw, variable, spec.units, source=source.name, file=file)
        share = month_shares(raw) if annual and "time" in raw.dims else None
        if factor is None:  # offset units (degC <-> K): masked here, converted through pint
            converted = units.convert(
                _clean(raw, None, fills), target, declared=spec.units, source=source.name, file=file
            )
            sample = units.convert(
                _clean(sample, None, fills).rename(variable), target, declared=spec.units, source=source.name, file=file
            )
        elif share is not None:
            converted = year_means(raw, share, factor=factor, fills=fills, clean=True)
            sample = _clean(sample, factor, fills)
        else:
            converted = _clean(raw, factor, fills)
            sample = _clean(sample, factor, fills)
        converted = converted.assign_attrs(units=target)
        check_values(sample.values, variable, source=source.name, file=file)
        converted = _normalized(converted, source=source.name, file=file)
        if annual and "time" in converted.dims:
            converted = year_means(converted, share) if share is not None else yearly(converted)
    except RhbenchError as exc:
        raise exc.add_context(source=source.name, file=file, variable=variable) from None
    except Exception as exc:  # a plugin's preprocess or an odd file
        raise DataError(
            f"cannot interpret file ({type(exc).__name__}: {exc})", source=source.name, file=file, variable=variable
        ) from exc
    if "time" in converted.dims:
        converted = converted.chunk({"time": TIME_CHUNK})
    return converted


def _normalized(data: xr.DataArray, *, source: str, file: str) -> xr.DataArray:
    """``data`` on rhbench's coordinate conventions (:func:`rhbench.grid.normalize_coordinates`)."""
    normal = grid.normalize_coordinates(data.to_dataset(name="__data__"), source=source, file=file)
    return normal["__data__"].rename(data.name)


def yearly(data: xr.DataArray) -> xr.DataArray:
    """Yearly steps of data labelled by :func:`open_variable`, relabelled by year (dims ``(year, ...)``)."""
    years = data["year"].values
    return data.drop_vars(["year", "month"]).assign_coords(time=years).rename(time="year")
