"""A variable's layout put on rhbench's conventions: fill values, time labels, dimensions.

The loader (:mod:`rhbench.loader`) calls these on each opened file:

- :func:`fill_values` takes ``_FillValue``/``missing_value`` out of the attributes for the
  loader's single masking pass; a value stored as text (``missing_value = "1e20"``) is
  parsed, one that is not a number is refused;
- :func:`label_time` gives each time step its calendar year and month (from the middle of
  its CF time bounds when the file has them, see :func:`time_values`);
- :func:`arrange` puts the dimensions in rhbench's order ``([year|time,] [extra,] lat,
  lon)``: length-1 extra dimensions (a scalar ``height`` or one soil layer) are dropped,
  soil layers of a per-area carbon variable are summed into the column total, and any
  other extra dimension of a carbon variable is refused.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

import cftime
import numpy as np
import xarray as xr

from rhbench import stamps, timeaxis
from rhbench.errors import CoordinateError, DataError
from rhbench.kernels import FILL_MAGNITUDE, FILL_VALUES

log = logging.getLogger(__name__)

#: CF attributes bounding the valid values of a variable (values outside are missing).
_VALID_ATTRS = ("valid_range", "valid_min", "valid_max")
#: Attributes of packed or unsigned data: such a variable is decoded by xarray, not by the loader.
_PACKING_ATTRS = ("scale_factor", "add_offset", "_Unsigned")
#: Variables stored per unit ground area whose soil (or litter) layers add up to the column.
LAYERED_SUMS = ("rh", "cSoil", "cLitter")
#: Variables that may keep one extra dimension (e.g. vegetation types of a land-cover map).
EXTRA_DIM_ALLOWED = ("landCoverFrac", "tas", "pr", "ndvi")
#: A dimension name that means soil or litter layers (matched case-insensitively).
LAYER_DIM = re.compile(r"depth|lev|layer|solay|soil|horizon", re.IGNORECASE)
#: A dimension name that means vegetation types or tiles (PFTs, ``veget``, ``lev_pft``, ``canopy_layer``):
#: never summed as layers even when it also matches :data:`LAYER_DIM`; per-PFT values are refused.
PFT_DIM = re.compile(r"pft|veg|tile|canopy|cohort|crop|cover|patch|lc_?type", re.IGNORECASE)
#: A pool label or description that names litter or coarse woody debris.
_LITTER_WORDS = re.compile(r"litr|litter|cwd|coarse[ _-]?woody", re.IGNORECASE)
#: A phrase that names litter to exclude it ("Excluding Litter Pools", "without litter").
_NEGATED_LITTER = re.compile(r"\b(exclud\w*|without|no|not including)\b[^,;.)]*", re.IGNORECASE)


def fill_values(ds: xr.Dataset, name: str, *, file: str | None = None) -> tuple[xr.Dataset, tuple[float, ...]]:
    """``ds`` with ``name``'s ``_FillValue``/``missing_value`` taken out of its attributes.

    Returns them (those :func:`rhbench.kernels.clean_values` does not mask anyway) for the
    loader to mask. Values outside the CF ``valid_range`` (or ``valid_min``/``valid_max``) are
    masked here, lazily (eighth audit: an ocean of -1 under ``valid_min = 0`` read as negative
    Rh). A packed variable (scale_factor, add_offset, _Unsigned) is decoded lazily by xarray
    instead, its valid range applied to the decoded values (:func:`_unpacked_interval`: in
    packed units when of the packed data's type, CF). Raises :class:`DataError` when a fill
    value or a valid range is not a number.
    """
    var = ds[name].variable
    if any(key in var.attrs for key in _PACKING_ATTRS):
        attrs = dict(var.attrs)
        valid = _unpacked_interval(attrs, attrs, var.dtype, name=name, file=file)
        decoded = xr.conventions.decode_cf_variable(name, xr.Variable(var.dims, var.data, attrs, var.encoding))
        return ds.assign({name: _masked_outside(decoded, valid, name=name, file=file)}), ()
    attrs = dict(var.attrs)
    found = []
    for key in ("_FillValue", "missing_value"):
        if key not in attrs:
            continue
        raw = attrs.pop(key)
        try:
            found.extend(float(np.asarray(v, dtype=float)) for v in np.ravel(raw))
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"{key} is not a number",
                file=file,
                variable=name,
                found=repr(raw),
                expected=f"a numeric {key} (e.g. 1e20)",
            ) from exc
    fills = tuple(f for f in found if np.isfinite(f) and abs(f) < FILL_MAGNITUDE and f not in FILL_VALUES)
    stored = np.dtype(var.encoding.get("dtype", var.dtype))  # decoded on opening: its packing is in the encoding
    valid = _unpacked_interval(attrs, var.encoding, stored, name=name, file=file)
    data = _masked_outside(xr.Variable(var.dims, var.data, attrs, var.encoding), valid, name=name, file=file)
    return ds.assign({name: data}), fills


def _masked_outside(
    data: xr.Variable, valid: tuple[float, float] | None, *, name: str, file: str | None
) -> xr.Variable:
    """``data`` (lazily) with values outside ``valid`` (units of ``data``) missing (CF); as it is without one."""
    if valid is None:
        return data
    log.info("%s: %s values outside its valid range %s..%s are read as missing (CF)", file, name, *valid)
    inside = (data >= valid[0]) & (data <= valid[1])
    masked = data.astype("float64" if data.dtype.kind in "iu" else data.dtype).where(inside)
    masked.attrs, masked.encoding = data.attrs, data.encoding
    return masked


def _unpacked_interval(
    attrs: dict, packing: dict, stored: np.dtype, *, name: str, file: str | None
) -> tuple[float, float] | None:
    """The CF valid interval (:func:`_valid_interval`, taken out of ``attrs``) in unpacked units.

    CF (8.1): valid_range/valid_min/valid_max of the packed data's type (``stored``) are in
    packed units, converted here with ``packing``'s scale_factor and add_offset (and
    _Unsigned), widened by half a packing step for integer packing so that decoded values of
    the stored integers at the limits stay inside; of another type, in unpacked units (as given).
    """
    types = {np.asarray(attrs[key]).dtype for key in _VALID_ATTRS if key in attrs}
    valid = _valid_interval(attrs, name=name, file=file)
    packed = any(key in packing for key in _PACKING_ATTRS)
    if valid is None or not packed or stored not in types:
        return valid
    scale = float(np.ravel(packing.get("scale_factor", 1.0))[0])
    offset = float(np.ravel(packing.get("add_offset", 0.0))[0])
    low, high = valid
    if stored.kind == "i" and str(packing.get("_Unsigned", "false")).strip().lower() == "true":
        span = 2.0 ** (8 * stored.itemsize)  # signed limits of unsigned data: read as unsigned
        low, high = sorted(v + span if v < 0 else v for v in (low, high))
    ends = sorted(v * scale + offset for v in (low, high))
    half = abs(scale) / 2 if stored.kind in "iu" else 0.0
    return ends[0] - half, ends[1] + half


def _valid_interval(attrs: dict, *, name: str, file: str | None) -> tuple[float, float] | None:
    """The CF valid interval, as written, from (and taken out of) ``attrs``'
    ``valid_range`` or ``valid_min``/``valid_max`` (None when it has none usable: a NaN limit or a
    valid_range not of 2 values is ignored, warned about). Raises :class:`DataError` naming the
    file when one is not a number."""
    raw = {key: attrs.pop(key) for key in _VALID_ATTRS if key in attrs}
    if not raw:
        return None
    try:
        numbers = {key: np.ravel(np.asarray(value, dtype=float)) for key, value in raw.items()}
    except (TypeError, ValueError) as exc:
        raise DataError(
            "a valid range attribute is not a number",
            file=file,
            variable=name,
            found=repr(raw),
            expected="numeric valid_range (2 values), valid_min or valid_max",
        ) from exc
    usable = {k: v for k, v in numbers.items() if v.size == (2 if k == "valid_range" else 1) and not np.isnan(v).any()}
    if len(usable) < len(numbers):  # a NaN limit masked every value (review 4); a wrong size was ignored silently
        unusable = {k: raw[k] for k in numbers if k not in usable}
        log.warning(
            "%s: %s's %s ignored (expected: 2 numbers in valid_range, 1 in valid_min/valid_max)", file, name, unusable
        )
    if not usable:
        return None
    low, high = sorted(map(float, usable["valid_range"])) if "valid_range" in usable else (-np.inf, np.inf)
    low = float(usable["valid_min"][0]) if "valid_min" in usable else low
    high = float(usable["valid_max"][0]) if "valid_max" in usable else high
    return low, high


def packing_step(var: xr.DataArray) -> float | None:
    """The decoding step ``|scale_factor|`` of an integer-packed variable, in the file's units (1
    with an ``add_offset`` alone); None when the variable is not packed. Rounding to the nearest
    packed integer moves a value by at most half this step (a stored 0 may decode slightly negative).

    Only integers are packed: float data carrying ``scale_factor``/``add_offset`` (often 1 and 0)
    are not rounded, so they get None and the tight unpacked tolerance of the value check.
    """
    for where in (var.attrs, var.encoding):  # raw attributes, or xarray's encoding once decoded
        if "scale_factor" in where or "add_offset" in where:
            stored = np.dtype(var.encoding.get("dtype", var.dtype)) if where is var.encoding else var.dtype
            if np.dtype(stored).kind not in "iu":
                return None
            return abs(float(np.ravel(where.get("scale_factor", 1.0))[0]))
    return None


def time_dim(data: xr.DataArray | xr.Dataset) -> str | None:
    """The name of ``data``'s time dimension (:data:`rhbench.timeaxis.TIME_NAMES`), or None."""
    return next((name for name in timeaxis.TIME_NAMES if name in data.dims), None)


def bounds_name(ds: xr.Dataset, name: str) -> str | None:
    """The CF ``bounds`` variable of time coordinate ``name`` in ``ds`` (shape (n, 2)), or None."""
    bounds = ds[name].attrs.get("bounds") if name in ds.variables else None
    if not isinstance(bounds, str) or bounds not in ds.variables:
        return None
    var = ds[bounds]
    return bounds if var.ndim == 2 and var.shape == (ds.sizes[name], 2) else None


def on_first_units(datasets: list[xr.Dataset], name: str) -> list[xr.Dataset]:
    """The files of a series with each one's time (and bounds) counted in the first file's time units
    when they differ only in their origin (xarray's re-writes: :func:`rhbench.timeaxis.on_units`)."""
    tdim = time_dim(datasets[0][name])
    if tdim is None:
        return list(datasets)
    first = datasets[0][tdim].attrs
    return [datasets[0]] + [timeaxis.on_units(ds, tdim, bounds_name(ds, tdim), first) for ds in datasets[1:]]


def time_values(ds: xr.Dataset, name: str) -> xr.DataArray:
    """The raw time values that label each step: the middle of the step's CF bounds when the
    file has bounds that contain their time stamps, else the stamps themselves.

    A time stamp at the end of its interval (e.g. 2000-02-01 00:00 for January 2000, as
    some models write; or 2001-01-01 for the year 2000) would label the next month or
    year; the middle of its bounds is inside the interval whatever the stamp convention.
    Bounds that do not contain their stamps are ignored (the stamps are used).
    """
    stamps = ds[name]
    bounds = bounds_name(ds, name)
    if bounds is None:
        return stamps
    edges = _bounds_in_time_units(stamps, ds[bounds])
    values = np.asarray(stamps.values, dtype=float)
    low, high = edges.min(axis=1), edges.max(axis=1)
    if not (np.all(np.isfinite(edges)) and np.all(high > low) and np.all((low <= values) & (values <= high))):
        return stamps
    return xr.DataArray((low + high) / 2, dims=stamps.dims, attrs={**stamps.attrs, "labelled_by": bounds})


def _bounds_in_time_units(stamps: xr.DataArray, bounds: xr.DataArray) -> np.ndarray:
    """The raw values of CF time ``bounds`` in the ``units`` of their time coordinate ``stamps``.

    CF bounds inherit the time's units, but xarray writing decoded dates encodes each from its
    own first value ('days since 1999-01-01' for the stamps, 'days since 1998-01-01' for bounds
    a year earlier): bounds stating units (or a calendar) of their own are converted through
    cftime; bounds without them, or with units that cannot be decoded, are taken as written.
    """
    edges = np.asarray(bounds.values, dtype=float)
    own = bounds.attrs.get("units")
    units = stamps.attrs.get("units")
    calendar = timeaxis.calendar_name(stamps.attrs)
    own_calendar = timeaxis.calendar_name(bounds.attrs) if "calendar" in bounds.attrs else calendar
    if (
        not isinstance(own, str)
        or not isinstance(units, str)
        or (own.strip(), own_calendar) == (units.strip(), calendar)
    ):
        return edges
    try:
        dates = cftime.num2date(edges, own, own_calendar)
        return np.asarray(cftime.date2num(dates, units, calendar), dtype=float)
    except (ValueError, TypeError):  # e.g. VISIT's 'years since AD ...' (cftime cannot): as written
        return edges


def warn_unused_bounds(ds: xr.Dataset, name: str, file: str, variable: str) -> None:
    """Warn, naming ``file``, when time ``name`` has CF bounds :func:`time_values` could not use."""
    bounds = bounds_name(ds, name) if name in ds.variables else None
    if bounds:
        log.warning(
            "%s (%s): time bounds %s do not contain their time stamps (or are not finite and increasing): "
            "ignored, the stamps are read as without bounds",
            file,
            variable,
            bounds,
        )


def label_time(
    data: xr.DataArray,
    ds: xr.Dataset,
    *,
    file: str,
    period: tuple[int, int] | None = None,
    named: tuple[int, int] | None = None,
    declared: str | None = None,
) -> xr.DataArray:
    """``data`` with its time dim named ``time``, indexed 0..n-1, with ``year``/``month`` labels.

    The labels come from the raw time coordinate of ``ds``
    (:func:`rhbench.timeaxis.decode_time`): the middle of its CF bounds when it has them,
    else its stamps, read as :func:`rhbench.stamps.read` decides from ``period`` (the years
    the plugin declares), ``named`` (the years in the file names), ``declared`` (the plugin's
    :attr:`rhbench.sources.Source.year_stamps`) and whether the first stamp is the time units'
    reference date, when they sit at 00:00 on the 1st of a month; that decision is
    logged and kept in the ``time_stamps`` attribute. The ``calendar`` attribute records the
    calendar. Data without a time dim is returned unchanged.
    """
    name = time_dim(data)
    if name is None:
        return data
    if name != "time":
        data = data.rename({name: "time"})
    raw_time = time_values(ds, name) if name in ds.variables else data["time"]
    labels = timeaxis.decode_time(raw_time, file=file, variable=str(data.name))
    note = ""
    if "labelled_by" not in raw_time.attrs:
        warn_unused_bounds(ds, name, file, str(data.name))
        ignored = (bounds_name(ds, name) if name in ds.variables else None) or raw_time.attrs.get("ignored_bounds")
        first = np.asarray(raw_time.values, dtype=float)[:1]
        at_reference = bool(first.size and first[0] == 0.0)  # the first stamp is the units' reference date
        reading = stamps.read(
            labels,
            period=period,
            named=named,
            declared=declared,
            at_reference=at_reference,
            file=file,
            variable=str(data.name),
            ignored_bounds=ignored,
        )
        labels, note = stamps.shifted(labels, reading), reading.note
        if note:
            level = logging.WARNING if reading.shift or reading.assumed else logging.INFO
            log.log(level, "%s (%s): %s", file, data.name, note)
    timeaxis.check_monotonic(labels, file=file, variable=str(data.name), raw=raw_time)
    units = str(raw_time.attrs.get("units", ""))
    timeaxis.check_even_steps(raw_time.values, labels, units=units, file=file, variable=str(data.name))
    labelled = data.assign_coords(
        time=np.arange(data.sizes["time"]),
        year=("time", labels.year),
        month=("time", labels.month),
    ).assign_attrs(calendar=labels.calendar)
    return labelled.assign_attrs(time_stamps=note) if note else labelled


def summed_layers(data: xr.DataArray, variable: str, axes: Iterable[str] = ("time", "year", "lat", "lon")) -> list[str]:
    """The dims of ``data`` that are soil or litter layers (pools) summed into ``variable``'s column
    total: the one rule, used by :func:`arrange` and by the value check's sample.

    ``axes`` are the time and grid dims (those of a raw file when the sample is read). The
    layers are summed when ``variable`` is a :data:`LAYERED_SUMS` variable and every other
    dim longer than 1 matches :data:`LAYER_DIM`; otherwise none are (empty list).
    """
    extra = [d for d in data.dims if d not in axes and data.sizes[d] > 1]
    layers = [d for d in extra if LAYER_DIM.search(str(d)) and not PFT_DIM.search(str(d))]
    return [str(d) for d in layers] if extra and variable in LAYERED_SUMS and layers == extra else []


def litter_pools(ds: xr.Dataset, layers: Iterable[str]) -> list[str]:
    """The labels of ``ds``'s pools along the ``layers`` dims that name litter or coarse woody debris.

    Read from pool labels only: the string values of the variables along each layer dim
    (``litr1``, ``cwd``) and the words of their ``flag_meanings``. Free text (``long_name``,
    ``comment``: "soil pools only, litter is in cLitter", "depth below the litter layer")
    is not read, nor are numeric depth axes. A soil-carbon variable summed over such pools
    already includes the litter.
    """
    found = []
    for dim in layers:
        for var in ds.variables.values():
            if var.dims[:1] != (dim,):
                continue
            values = np.ravel(var.values) if var.dtype.kind in "USO" else []
            labels = [v.decode(errors="replace") if isinstance(v, bytes) else str(v) for v in values]
            meanings = var.attrs.get("flag_meanings")
            labels += str(meanings).split() if isinstance(meanings, str) else []
            found += [label.strip() for label in labels if _LITTER_WORDS.search(_NEGATED_LITTER.sub("", label))]
    return found


def drop_scalar_dims(data: xr.DataArray) -> xr.DataArray:
    """``data`` without its length-1 dimensions other than time, lat and lon (kept as scalars)."""
    scalar = [d for d in data.dims if data.sizes[d] == 1 and d not in ("time", "year", "lat", "lon")]
    return data.squeeze(scalar) if scalar else data


def arrange(data: xr.DataArray, variable: str, *, file: str | None = None, pfts: bool = False) -> xr.DataArray:
    """``data`` (named ``variable``, canonical units, missing values NaN) in rhbench's layout.

    Soil layers of a :data:`LAYERED_SUMS` variable are summed (NaN only where every layer
    is); the result records ``summed_layers``. Dims end up ``([year|time,] [extra,] lat, lon)``; with
    ``pfts``, any variable may keep one extra dim (PFTs weighted by :mod:`rhbench.pftcover`).

    Raises
    ------
    CoordinateError
        When an extra dimension is left that the variable cannot have, naming the file,
        the variable, the dimensions found and those expected.
    """
    data = drop_scalar_dims(data)
    first = [d for d in ("time", "year") if d in data.dims]
    extra = [d for d in data.dims if d not in (*first, "lat", "lon")]
    layers = summed_layers(data, variable)
    if layers:
        summed = data.sum(layers, min_count=1, keep_attrs=True)
        data = summed.assign_attrs(summed_layers=", ".join(map(str, layers)))
        extra = []
    if extra and variable not in EXTRA_DIM_ALLOWED and not (pfts and len(extra) == 1):
        types = [str(d) for d in extra if PFT_DIM.search(str(d))]
        raise CoordinateError(
            "unexpected extra dimension" + (f" (vegetation types or tiles: {', '.join(types)})" if types else ""),
            file=file,
            variable=variable,
            found=f"dims {tuple(map(str, data.dims))}",
            expected=f"([time,] lat, lon); soil layers ({LAYER_DIM.pattern}) are summed for {list(LAYERED_SUMS)}",
            hint="per-PFT values are neither averaged nor summed: declare the model's landCoverFrac (same PFT "
            "axis) in the plugin and rhbench weights them, or write the grid-cell value, sum of value x landCoverFrac"
            if types
            else None,
        )
    return data.transpose(*first, *extra, "lat", "lon")
