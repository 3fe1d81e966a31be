"""Open one variable of one source from its file, lazily, and put it on rhbench's conventions.

This is the only place that reads data files. It handles the file quirks of TRENDY and
observation products: gzipped files, odd coordinate names and conventions, undecodable
time units, calendars, fill values without ``_FillValue``; it checks units and converts
to the canonical units. The result is a dask-backed DataArray with dims
``([time,] [extra,] lat, lon)`` and, when there is a time axis, ``year``/``month``
coordinates on ``time``.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import xarray as xr

from benchmark import grid, timeaxis, units
from benchmark.errors import (
    DataError,
    MissingVariableError,
    PluginError,
    RhbenchError,
    ValueRangeError,
)
from benchmark.sources import Source

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
#: float64 intermediates (~50 MB each) stay well under 1 GB. Whole lat/lon because every
#: reduction (annual means, period means, totals) runs over time or over the whole map.
#: Files chunked on disk one step at a time are read 24 steps per task. Measured (one
#: full-size synthetic model, 8.8 GB, cold page cache, 2 threads): 12 steps 13.6-15.3 s,
#: 24 steps 11.8-13.2 s, 72 steps 15.2 s, 120 steps 17.9 s; peak RSS 1.1, 1.1, 1.5, 1.7 GB.
TIME_CHUNK = 24
CACHE_ENV = "RHBENCH_CACHE"
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
_CHUNKS = {**dict.fromkeys(_TIME_NAMES, TIME_CHUNK),
           **dict.fromkeys((*grid._LAT_NAMES, *grid._LON_NAMES), -1)}


def cache_dir() -> Path:
    """Folder for decompressed and harmonised files (``RHBENCH_CACHE`` or ~/.cache/rhbench)."""
    root = os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "rhbench"
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


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


def open_dataset(path: Path, *, source: str | None = None) -> xr.Dataset:
    """Open a netCDF (or gzipped netCDF) file lazily with times left undecoded.

    Raises :class:`DataError` naming the file when it is missing, empty or corrupt.
    """
    if not path.exists():
        raise DataError("data file not found", source=source, file=str(path))
    if path.stat().st_size == 0:
        raise DataError("data file is empty", source=source, file=str(path), found="0 bytes")
    readable = _gunzipped(path) if path.suffix == ".gz" else path
    try:
        return xr.open_dataset(readable, decode_times=False, chunks=_CHUNKS, engine="netcdf4")
    except (OSError, ValueError, RuntimeError, KeyError) as exc:
        raise DataError(f"cannot read file as netCDF ({type(exc).__name__}: {exc})",
                        source=source, file=str(path), expected="a netCDF-3/4 file") from exc


def _mask_fill_values(data: xr.DataArray) -> xr.DataArray:
    if not np.issubdtype(data.dtype, np.floating):
        data = data.astype("float64")
    bad = np.abs(data) >= FILL_MAGNITUDE
    for value in FILL_VALUES:
        bad = bad | (data == value)
    return data.where(~bad)


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
        slices = [data.isel(fixed if step is None else {**fixed, time_dim: step}).values
                  for step in steps if data.size]
    except Exception as exc:  # netCDF/HDF5 raise assorted errors on truncated data
        raise DataError(f"cannot read data values ({type(exc).__name__}: {exc})",
                        source=source, file=file, variable=str(data.name),
                        expected="a complete netCDF file") from exc
    values = np.concatenate([np.ravel(s) for s in slices]) if slices else np.array([])
    return xr.DataArray(values, dims="sample", name=data.name, attrs=data.attrs)


def check_values(sample: np.ndarray, variable: str, *, source: str | None = None,
                 file: str | None = None) -> None:
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
        raise ValueRangeError("all values are missing (NaN or fill value)",
                              found=f"0 of {sample.size} sampled values valid",
                              expected="some non-missing values", **where)
    nonzero = finite[finite != 0]
    scale = float(np.median(np.abs(nonzero))) if nonzero.size else 0.0
    if variable in NON_NEGATIVE:
        share = float(np.mean(finite < -NEGATIVE_TOLERANCE * scale))
        if share > NEGATIVE_SHARE_MAX:
            raise ValueRangeError(
                "negative values in a variable that cannot be negative",
                found=f"{share:.1%} of values negative (min {finite.min():.4g} {target})",
                expected=f"values >= 0 (at most {NEGATIVE_SHARE_MAX:.0%} negative)", **where)
    low, high = PLAUSIBLE_MEDIAN.get(variable, (0.0, np.inf))
    median = float(np.median(nonzero)) if nonzero.size else 0.0
    if nonzero.size and not low <= median <= high:
        log.warning("%s", ValueRangeError(
            "implausible values, likely a units error (e.g. a factor 1000)",
            found=f"median {median:.4g} {target}", expected=f"median in {low:g}..{high:g} {target}",
            **where))


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


def open_variable(source: Source, variable: str, path: Path) -> xr.DataArray:
    """One canonical variable of ``source`` from ``path``: checked, converted, lazily.

    Returns a DataArray named ``variable`` in canonical units with ``lat`` ascending and
    ``lon`` in [-180, 180). Raises a :class:`~benchmark.errors.RhbenchError` subclass whose
    message names the source, file and variable.
    """
    spec = source.variables[variable]
    file = str(path)
    try:
        ds = open_dataset(path, source=source.name)
        if source.preprocess is not None:
            ds = source.preprocess(ds)
            if not isinstance(ds, xr.Dataset):
                raise PluginError("preprocess must return an xarray.Dataset", source=source.name,
                                  file=file, found=type(ds).__name__, expected="xarray.Dataset")
        if spec.file_name not in ds.variables:
            raise MissingVariableError(
                "variable not in file", source=source.name, file=file, variable=spec.file_name,
                found=sorted(map(str, ds.data_vars)), expected=spec.file_name)
        sample = _read_sample(ds[spec.file_name], source=source.name, file=file)
        ds = grid.normalize_coordinates(ds, source=source.name, file=file)
        data = _mask_fill_values(ds[spec.file_name]).rename(variable)
        data.attrs = dict(ds[spec.file_name].attrs)
        data = _label_time(data, ds, source=source.name, file=file)
        converted = units.convert(data, units.canonical_units(variable), declared=spec.units,
                                  source=source.name, file=file)
        sample = units.convert(_mask_fill_values(sample).rename(variable), converted.attrs["units"],
                               declared=spec.units, source=source.name, file=file)
        check_values(sample.values, variable, source=source.name, file=file)
    except RhbenchError as exc:
        raise exc.add_context(source=source.name, file=file, variable=variable) from None
    except Exception as exc:  # a plugin's preprocess or an odd file
        raise DataError(f"cannot interpret file ({type(exc).__name__}: {exc})", source=source.name,
                        file=file, variable=variable) from exc
    if "time" in converted.dims:
        converted = converted.chunk({"time": TIME_CHUNK})
    return converted
