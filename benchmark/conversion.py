"""A model variable's values masked and converted to rhbench's canonical units, as the loader reads them.

The units factor comes from :mod:`rhbench.units` (checked against the plugin's declared units). A
flux given as an amount per month (``g C m-2 month-1``, ``gC/m2/month``: TRENDY and ORCHIDEE-style
monthly sums) is not a rate over pint's mean month (365.25 / 12 days): each step is the amount of
its own calendar month, so it is divided by that month's days (:func:`month_amount_scale`); on
yearly steps such units are a year's mean monthly amount, a rate per mean month (pint's, exact).
"""

from __future__ import annotations

import logging
import re

import numpy as np
import xarray as xr

from rhbench import kernels, timeaxis, units
from rhbench.errors import RhbenchError

log = logging.getLogger(__name__)

#: Units whose time is a month in the denominator: ``g m-2 month-1``, ``gC/m2/month``, ``kg m-2 months^-1``,
#: and CMIP's ``mon`` (``gC m-2 mon-1``).
PER_MONTH = re.compile(r"(/\s*(months?|mons?)\b)|(\b(months?|mons?)\s*(\^|\*\*)?\s*-1\b)", re.IGNORECASE)


def month_amount_scale(raw: xr.DataArray, declared: str) -> np.ndarray | None:
    """Per time step, the factor turning an amount of the step's calendar month into a rate per pint
    month (pint's month, 365.25 / 12 days, over the month's days), when ``raw`` is monthly and its
    units (else the ``declared`` ones) are per month; None otherwise. ``raw`` is labelled (``year``/
    ``month`` on ``time``, a ``calendar`` attribute: :func:`rhbench.layout.label_time`). Yearly steps
    in per-month units (a year's mean monthly amount, CRU-style ``mm month-1``) are a rate per mean
    month: pint's conversion is exact for them (12 pint months are pint's year)."""
    text = str(raw.attrs.get("units") or declared or "")
    if not per_month(text) or "time" not in raw.dims:
        return None
    years, months = raw["year"].values, raw["month"].values
    if np.unique(years).size == years.size:  # one step per year
        return None
    days = timeaxis.days_in_month(years, months, raw.attrs.get("calendar", "standard"))
    return units.conversion_factor("month", "day") / np.asarray(days, dtype="float64")


def per_month(text: str) -> bool:
    """Whether units ``text`` have a month in the denominator, in any spelling pint reads as such
    (``month-1``, ``/month``, ``per month``, ``/(m2 month)``, ``mon-1``): the regular expression
    first, then, for other text naming a month (``mon`` included), pint's parse (imported only then)."""
    if PER_MONTH.search(text):
        return True
    if "mon" not in text.casefold():
        return False
    try:
        return units.parse_units(text)._units.get("month", 0) < 0  # pint's UnitsContainer: name -> power
    except RhbenchError:  # unparseable: refused with its own error by the units check
        return False


def unit_factor(data: xr.DataArray, variable: str, declared: str, *, source: str, file: str) -> float | None:
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


def _canonical_step(step: float, raw: xr.DataArray, declared: str, where: dict) -> float | None:
    """A packing ``step`` in the file's units converted to ``raw``'s canonical units (None for offset units)."""
    factor = unit_factor(raw, str(raw.name), declared, **where)
    return None if factor is None else step * abs(factor)


def layers_step(
    step: float | None, raw: xr.DataArray, sample: xr.DataArray, declared: str, where: dict
) -> float | None:
    """The packing ``step`` in canonical units times the layers summed in ``sample``; None when
    not packed or when the units conversion has an offset (K -> degC: no step to compare)."""
    canonical = None if step is None else _canonical_step(step, raw, declared, where)
    return None if canonical is None else canonical * sample.sizes.get("layer", 1)


def _say_units_differ(raw: xr.DataArray, declared: str, where: dict) -> None:
    """Log a WARNING when the file's ``units`` differ from the plugin's ``declared`` units but
    are convertible (same dimension, e.g. g m-2 vs kg m-2): the file's units win (a different
    dimension was already refused by :func:`rhbench.units.check_units`)."""
    found = str(raw.attrs.get("units") or "").strip()
    if not found or not declared or units.normalize_units(found) == units.normalize_units(declared):
        return
    try:
        same = units.conversion_factor(found, declared) == 1.0
    except RhbenchError:  # offset units (degC vs K): no factor, still a difference worth naming
        same = False
    if not same:
        log.warning(
            "%s: %s in %s has units %r, the plugin declares %r: read in the file's units "
            "(converted to %s)", where.get("source"), raw.name, where.get("file"), found, declared,
            units.canonical_units(str(raw.name)),
        )  # fmt: skip


def converted(
    raw: xr.DataArray,
    sample: xr.DataArray,
    declared: str,
    fills: tuple[float, ...],
    annual: bool,
    where: dict,
    *,
    owned: bool = False,
) -> tuple[xr.DataArray, xr.DataArray]:
    """``raw`` and its ``sample`` masked and in canonical units (``raw`` as year means when ``annual``);
    ``owned``: ``raw``'s values were read into memory by this load and are held by nothing else, so
    they are masked and scaled in place (:func:`rhbench.kernels.clean_values`)."""
    variable = str(raw.name)
    target = units.canonical_units(variable)
    factor = unit_factor(raw, variable, declared, **where)
    _say_units_differ(raw, declared, where)
    share = kernels.month_shares(raw) if annual and "time" in raw.dims else None
    scale = month_amount_scale(raw, declared)  # per-month amounts: each month's own days
    if factor is None:  # offset units (degC <-> K): masked here, converted through pint
        converted = units.convert(kernels.clean(raw, None, fills), target, declared=declared, **where)
        sample = units.convert(kernels.clean(sample, None, fills).rename(variable), target, declared=declared, **where)
    elif share is not None:
        share = share if scale is None else share * scale
        converted = kernels.year_means(raw, share, factor=factor, fills=fills, clean=True)
        sample = kernels.clean(sample, factor, fills)
    else:
        converted = kernels.clean(raw, factor, fills, overwrite=owned)
        if scale is not None:  # (a product drops attributes: the labels' calendar and stamps note are kept)
            converted = (converted * xr.DataArray(scale, dims="time")).assign_attrs(converted.attrs)
        sample = kernels.clean(sample, factor, fills)
    if scale is not None:
        log.info("%s: %s in %s is an amount per month: each step divided by its month's days", where.get("source"),
                 variable, where.get("file"))  # fmt: skip
    return converted.assign_attrs(units=target), sample
