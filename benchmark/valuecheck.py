"""Checks of a variable's values on a small sample read before any heavy work.

:func:`read_sample` reads the first, middle and last time steps; :func:`check_values`
refuses impossible values (all missing, negative stocks or respiration) and warns about
implausible ones (a likely units error).
"""

from __future__ import annotations

import logging

import numpy as np
import xarray as xr

from rhbench import fileaxes, layout, units
from rhbench.errors import DataError, ValueRangeError
from rhbench.timeaxis import TIME_NAMES

log = logging.getLogger(__name__)

#: Plausible range of the median of a variable's non-missing, non-zero values, in canonical
#: units. A median outside it is most likely a units error (e.g. a factor 1000): warned, not fatal.
PLAUSIBLE_MEDIAN: dict[str, tuple[float, float]] = {
    "rh": (1.0, 5000.0),
    "npp": (1.0, 5000.0),
    "gpp": (1.0, 10000.0),
    "fVegLitter": (1.0, 5000.0),
    "cSoil": (0.1, 500.0),
    "cLitter": (0.005, 50.0),
    "cVeg": (0.01, 300.0),
    "pr": (10.0, 10000.0),
}
#: Added when the files state no units: the declared ones were assumed, so a median out of range fails.
UNSTATED_UNITS_NOTE = (
    ": the files state no units, so they were read in the units the plugin declares, and their values are "
    "not of the magnitude those units give"
)
#: Variables that cannot be negative. A value is negative when below -1e-6 times the median
#: absolute value, or, for packed data (scale_factor/add_offset), below minus half the packing
#: step (a stored zero decodes to within half a step of 0); more than 1 % negative values is
#: an error.
NON_NEGATIVE = (
    *("rh", "gpp", "fVegLitter", "cSoil", "cLitter", "cVeg", "pr", "landCoverFrac"),
    *("sftlf", "areacella", "landArea"),
)
#: Variables that are never zero everywhere on Earth: an all-zero sample fails the source.
NEVER_ALL_ZERO = ("rh", "npp", "gpp", "fVegLitter", "cSoil", "cLitter", "cVeg")
#: Land (or ocean) fractions of a grid cell, 0-1 in canonical units: far above 1 is a % field
#: labelled as a fraction; above 0 but never above 1 % is a 0-1 fraction labelled % (every
#: global grid has cells fully land and fully ocean). Either is an error, not a guess.
FRACTIONS = ("sftlf", "oceanCoverFrac")
#: Fractions that are an ocean share: 0 everywhere is a land-only grid, accepted. A land
#: fraction (sftlf) 0 everywhere would give no land at all: refused like a max <= 1 %.
OCEAN_FRACTIONS = ("oceanCoverFrac",)
#: A fraction's maximum above this is a % field labelled '1' (its maximum is near 100).
FRACTION_REFUSED_ABOVE = 1.5
#: A fraction's maximum above 1 + this (and at most :data:`FRACTION_REFUSED_ABOVE`) is warned
#: about as a regridding overshoot; the cell measures clip it to 1.
FRACTION_OVERSHOOT = 1e-3
NEGATIVE_TOLERANCE = 1e-6
NEGATIVE_SHARE_MAX = 0.01
#: Up to :data:`NEGATIVE_SHARE_MAX` negative values are accepted, with a warning when their
#: minimum is below minus this times the median magnitude (real negatives, not noise).
NEGATIVE_WARN_SCALE = 1e-3


#: The time and grid dims of a raw file.
FILE_AXES = (*TIME_NAMES, *fileaxes.LAT_NAMES, *fileaxes.LON_NAMES)


def read_sample(
    data: xr.DataArray, *, source: str, file: str, variable: str | None = None, whole_extra: bool = False
) -> xr.DataArray:
    """The first, middle and last time steps of ``data``, dims ``("sample"[, "layer"])``.

    The soil layers or pools that the loader sums into ``variable``'s column total
    (:func:`rhbench.layout.summed_layers`) are kept as the ``layer`` dim, for
    :func:`column_values` to sum once the values are masked and converted; any other
    non-grid dim is read at its first index, or whole with ``whole_extra`` (a model's PFTs, weighted
    later by :mod:`rhbench.pftcover`: every type's values are samples, a bare-soil type 0 without
    values included). Each step is read as one integer slice of
    the freshly opened variable, so only those steps leave the disk. Raises
    :class:`DataError` when the values cannot be read (e.g. a truncated file).
    """
    layers = layout.summed_layers(data, variable, axes=FILE_AXES) if variable else []
    fixed = {dim: 0 for dim in data.dims if dim not in FILE_AXES and dim not in layers and not whole_extra}
    time_dim = next((dim for dim in data.dims if dim in TIME_NAMES), None)
    steps = sorted({0, data.sizes[time_dim] // 2, data.sizes[time_dim] - 1}) if time_dim else [None]
    width = int(np.prod([data.sizes[d] for d in layers]))
    try:
        slices = [
            data.isel(fixed if step is None else {**fixed, time_dim: step}).transpose(..., *layers).values
            for step in steps
            if data.size
        ]
    except Exception as exc:  # netCDF/HDF5 raise assorted errors on truncated data
        raise DataError(
            f"cannot read data values ({type(exc).__name__}: {exc})",
            source=source,
            file=file,
            variable=str(data.name),
            expected="a complete netCDF file",
        ) from exc
    if layers:
        values = np.concatenate([s.reshape(-1, width) for s in slices]) if slices else np.empty((0, width))
        return xr.DataArray(values, dims=("sample", "layer"), name=data.name, attrs=data.attrs)
    values = np.concatenate([np.ravel(s) for s in slices]) if slices else np.array([])
    return xr.DataArray(values, dims="sample", name=data.name, attrs=data.attrs)


def column_values(sample: xr.DataArray) -> np.ndarray:
    """A masked, converted sample of :func:`read_sample` as column totals: its ``layer`` dim
    summed (NaN only where every layer is), in the sample's units."""
    return sample.sum("layer", min_count=1).values if "layer" in sample.dims else sample.values


def check_values(
    sample: np.ndarray,
    variable: str,
    *,
    source: str | None = None,
    file: str | None = None,
    packing_step: float | None = None,
    units_stated: bool = True,
) -> None:
    """Check sampled values of a variable, in canonical units, for impossible or odd values.

    ``packing_step``: the decoding step (``|scale_factor|``) of packed data in canonical
    units; negatives down to half of it are rounding, not values.

    Raises :class:`ValueRangeError` when every value is missing, every value of a
    :data:`NEVER_ALL_ZERO` variable is zero, or when more than
    :data:`NEGATIVE_SHARE_MAX` of the values of a :data:`NON_NEGATIVE` variable are negative.
    Also when a :data:`FRACTIONS` variable is off by 100 (:func:`_check_fraction`). Logs a
    warning (likely units error) when the median of the non-missing, non-zero values is
    outside :data:`PLAUSIBLE_MEDIAN`; an error when the files state no units (``units_stated``
    False: read in the plugin's declared units, which nothing else confirms).
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
    if nonzero.size == 0 and variable in NEVER_ALL_ZERO:
        raise ValueRangeError(
            "every sampled value is zero (first, middle and last time steps): a broken file or units error",
            found=f"{finite.size} valid values, all 0",
            expected="non-zero values",
            **where,
        )
    scale = float(np.median(np.abs(nonzero))) if nonzero.size else 0.0
    if variable in NON_NEGATIVE:
        noise = max(NEGATIVE_TOLERANCE * scale, 0.5 * packing_step if packing_step else 0.0)
        _check_non_negative(finite, noise, scale, target, where)
    if variable in FRACTIONS:
        _check_fraction(finite, where)
    # all positive (as a flux or stock usually is): the median is the magnitudes' one, not sorted again
    median = scale if nonzero.size and nonzero.min() > 0 else float(np.median(nonzero)) if nonzero.size else 0.0
    if nonzero.size:
        _check_median(median, variable, target, where, units_stated=units_stated)


def _check_median(median: float, variable: str, target: str, where: dict, *, units_stated: bool) -> None:
    """Warn when ``median`` (``target`` units) is outside :data:`PLAUSIBLE_MEDIAN`; raise
    :class:`ValueRangeError` instead when the files state no units: nothing but this median can tell
    the declared units wrong (B13-24)."""
    low, high = PLAUSIBLE_MEDIAN.get(variable, (0.0, np.inf))
    if low <= median <= high:
        return
    implausible = ValueRangeError(
        "implausible values, likely a units error (e.g. a factor 1000)" + ("" if units_stated else UNSTATED_UNITS_NOTE),
        found=f"median {median:.4g} {target}",
        expected=f"median in {low:g}..{high:g} {target}",
        hint=None
        if units_stated
        else f"give the file the units its values are in (ncatted -a units,{variable},o,c,'...')",
        **where,
    )
    if not units_stated:
        raise implausible
    log.warning("%s", implausible)


def _check_non_negative(finite: np.ndarray, noise: float, scale: float, target: str, where: dict) -> None:
    """Raise :class:`ValueRangeError` when more than :data:`NEGATIVE_SHARE_MAX` of the values
    are below ``-noise`` (the rounding tolerated, in ``target`` units). A smaller share is
    warned about when its minimum is a real value, below -:data:`NEGATIVE_WARN_SCALE` x
    ``scale`` (the median magnitude): solver noise (ACCESS-ESM1-5 gpp: -1.7e-13 kg m-2 s-1
    on ~1 % of cells) is far above that."""
    share = float(np.mean(finite < -noise))
    if 0.0 < share <= NEGATIVE_SHARE_MAX and finite.min() < -NEGATIVE_WARN_SCALE * scale:
        log.warning(
            "%s",
            ValueRangeError(
                "a few large negative values in a variable that cannot be negative (kept as read)",
                found=f"{share:.2%} of values negative (min {finite.min():.4g} {target})",
                expected=f"values >= 0 (negatives above -{NEGATIVE_WARN_SCALE:g} x the median magnitude {scale:.4g})",
                **where,
            ),
        )
    if share > NEGATIVE_SHARE_MAX:
        raise ValueRangeError(
            "negative values in a variable that cannot be negative",
            found=f"{share:.1%} of values negative (min {finite.min():.4g} {target})",
            expected=f"values >= 0 (at most {NEGATIVE_SHARE_MAX:.0%} negative; rounding to -{noise:.3g} tolerated)",
            hint="(almost) every value negative: the flux is written with the atmosphere's sign convention "
            f"(a loss from the land negative)? rhbench reads it positive: negate it (e.g. ncap2 -s "
            f"'{where.get('variable')}=-{where.get('variable')}')"
            if np.mean(finite < 0) > 0.95
            else None,
            **where,
        )


def _relabel_hint(variable: str | None, units_: str) -> str:
    """How to fix a fraction file whose units are off by 100: label it as its values are."""
    return (
        f"label the file's units as its values are, '%' for 0..100 (CMIP6 sftlf) or '1' for 0..1: "
        f"here probably '{units_}' (e.g. ncatted -a units,{variable},o,c,'{units_}' FILE)"
    )


def _check_fraction(finite: np.ndarray, where: dict) -> None:
    """Check a cell fraction (0-1, converted from the file's units) for a units label off by 100.

    Raises :class:`ValueRangeError` when its maximum exceeds :data:`FRACTION_REFUSED_ABOVE`
    (a % field labelled '1' has a maximum near 100) or lies in (0, 0.01] (a 0-1 field
    labelled '%'); warns when it is in (1.001, 1.5] (a regridding overshoot, clipped to 1
    by :func:`rhbench.landfrac.measures`). An ocean fraction (:data:`OCEAN_FRACTIONS`) that
    is 0 everywhere (a land-only grid) passes; a land fraction 0 everywhere is refused.
    """
    top = float(finite.max())
    found = f"max {top:.4g} after converting the file's units to 0-1"
    if top > FRACTION_REFUSED_ABOVE:
        raise ValueRangeError(
            "a cell fraction far above 1: values in % labelled as a fraction?",
            found=found,
            expected="0..1 (or units '%' for 0..100)",
            hint=_relabel_hint(where.get("variable"), "%"),
            **where,
        )
    if top > 1.0 + FRACTION_OVERSHOOT:
        log.warning(
            "%s",
            ValueRangeError(
                "a cell fraction slightly above 1 (regridding overshoot?): clipped to 1",
                found=found,
                expected="0..1",
                **where,
            ),
        )
    lowest = 0.0 if where.get("variable") in OCEAN_FRACTIONS else -np.inf  # an all-0 ocean share: land-only grid
    if lowest < top <= 0.01 * (1 + 1e-6):
        raise ValueRangeError(
            "a cell fraction never above 1 %: a 0-1 fraction labelled '%', or no land at all?",
            found=found,
            expected="some cells fully land or fully ocean (max near 1, i.e. 100 %)",
            hint=_relabel_hint(where.get("variable"), "1"),
            **where,
        )
