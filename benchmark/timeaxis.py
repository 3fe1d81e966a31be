"""Decode the time axes of TRENDY and observation files into (year, month) labels.

TRENDY files are not uniform: time in days, hours, months or years since arbitrary
reference dates, calendars standard / noleap / 360_day, and VISIT's
``years since AD 1700-Jan-1st`` that cftime cannot decode. Decoding is done here by hand
for ``months``/``years`` units and through cftime for the others; the result is the
calendar year and month of each step, which is all rhbench needs (annual means).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cftime
import numpy as np
import xarray as xr

from rhbench.errors import TimeAxisError

#: Names of a time dimension (CF, NEMO/ORCHIDEE ``time_counter``, upper-case variants).
TIME_NAMES = ("time", "Time", "TIME", "t", "time_counter")
_SINCE = re.compile(
    r"^\s*(?P<unit>[a-zA-Z_]+)\s+since\s+(?:AD\s+)?(?P<year>-?\d{1,4})"
    r"(?:-(?P<month>\d{1,2}|[A-Za-z]{3})(?:-(?P<day>\d{1,2})(?:st|nd|rd|th)?)?)?"
    r"(?:(?:T|\s+)(?P<hour>\d{1,2})(?::(?P<minute>\d{1,2})(?::(?P<second>\d{1,2}(?:\.\d*)?))?)?)?"
    r"(?:\s*(?P<zone>[+-])(?P<zone_hours>\d{1,2})(?::?(?P<zone_minutes>\d{2}))?(?!\d))?",
)
_MONTHS = {
    m: i + 1 for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])
}
_CALENDARS = {
    "standard",
    "gregorian",
    "proleptic_gregorian",
    "noleap",
    "365_day",
    "360_day",
    "julian",
    "all_leap",
    "366_day",
}
_DAY_FACTORS = {
    "days": 1.0,
    "day": 1.0,
    "d": 1.0,
    "hours": 1 / 24,
    "hour": 1 / 24,
    "h": 1 / 24,
    "minutes": 1 / 1440,
    "seconds": 1 / 86400,
    "s": 1 / 86400,
    "common_years": 365.0,  # UDUNITS: exactly 365 days (not calendar years)
    "common_year": 365.0,
}
#: Seconds in each unit of :data:`_DAY_FACTORS` (integers, so their ratios are exact).
_SECONDS = {unit: round(factor * 86400) for unit, factor in _DAY_FACTORS.items()}


@dataclass(frozen=True)
class TimeLabels:
    """Calendar year and month (1-12) of every time step, with the file's calendar.

    ``boundary``: where a step's value sits at 00:00 on the 1st of its month (to the minute),
    the stamps that may start their step or end the one before (:mod:`rhbench.stamps`);
    None when not known.
    """

    year: np.ndarray
    month: np.ndarray
    calendar: str
    boundary: np.ndarray | None = None


#: Calendar names that count the same days (after 1582 for the Gregorian ones).
_SAME_DAYS = {"gregorian": "standard", "proleptic_gregorian": "standard", "365_day": "noleap", "366_day": "all_leap"}


def calendar_name(attrs: dict) -> str:
    """The ``calendar`` attribute of a time coordinate's ``attrs`` as written (trimmed, lower case;
    ``standard`` when absent)."""
    return str(attrs.get("calendar", "standard")).strip().strip("\x00").strip().lower()


def same_calendar(attrs: dict) -> str:
    """:func:`calendar_name`, with names that count the same days made one (``365_day`` is ``noleap``)."""
    name = calendar_name(attrs)
    return _SAME_DAYS.get(name, name)


#: Time units that make each value a calendar year itself (no reference date): ``year``, ``years``,
#: ``yr``, ``YYYY``, ``year AD``, ``calendar_year`` (as some TRENDY files write yearly output).
_YEAR_NUMBERS = re.compile(r"^\s*(years?|yrs?|yyyy|years?\s+a\.?d\.?|calendar[ _]years?)\s*$", re.IGNORECASE)


#: CDO's absolute time axis (``cdo -a``): each value the date itself, ``YYYYMMDD.fraction``
#: (``day as %Y%m%d.%f``), ``YYYYMM.fraction`` (``month as %Y%m.%f``) or ``YYYY.fraction``.
_ABSOLUTE = re.compile(r"^\s*(?P<unit>day|month|year)s?\s+as\s+%Y(%m(%d)?)?(\.%f)?\s*$", re.IGNORECASE)


def _absolute(values: np.ndarray, unit: str, calendar: str, where: dict) -> TimeLabels:
    """Labels of CDO's absolute time axis (:data:`_ABSOLUTE`); a value at 00:00 on the 1st of a month
    (``20000201.0``) is a boundary stamp (:mod:`rhbench.stamps`). Raises :class:`TimeAxisError` for a
    value that is not such a date."""
    whole = np.floor(values + 1e-9).astype(np.int64)
    scale = {"day": 10000, "month": 100, "year": 1}[unit.lower()]
    years = whole // scale
    months = (whole // 100) % 100 if unit.lower() == "day" else whole % 100 if unit.lower() == "month" else None
    months = np.ones_like(years) if months is None else months
    days = whole % 100 if unit.lower() == "day" else np.ones_like(years)
    if values.size and (np.any(months < 1) or np.any(months > 12) or np.any(days < 1) or np.any(days > 31)):
        raise TimeAxisError(
            "absolute time values are not dates",
            found=f"{values.min():.10g} .. {values.max():.10g} with units '{unit} as %Y...'",
            expected="values such as 20000115.5 (day as %Y%m%d.%f)",
            **where,
        )
    boundary = (days == 1) & np.isclose(values, whole, rtol=0, atol=1e-6) if unit.lower() == "day" else None
    return TimeLabels(years, months, calendar, boundary)


def _year_numbers(values: np.ndarray, units: str, calendar: str, where: dict) -> TimeLabels:
    """Labels of a time axis whose values are the calendar years themselves (``units: "year"``): each
    step is that year (month 1, never a stamp at a year boundary to read as a start or an end).
    Raises :class:`TimeAxisError` when a value is not a whole year in 1..9999 (a count since some
    date with its reference missing from the units)."""
    whole = np.round(values)
    if values.size and (not np.allclose(values, whole, rtol=0, atol=1e-6) or whole.min() < 1 or whole.max() > 9999):
        raise TimeAxisError(
            "time units name no reference date and the values are not calendar years",
            found=f"units {units!r}, values {values.min():g} .. {values.max():g}",
            expected="whole calendar years (e.g. 1901 .. 2018) with units 'year', or '<unit> since <date>'",
            **where,
        )
    years = whole.astype(int)
    unique, counts = np.unique(years, return_counts=True)
    if np.any(counts > 1):  # a monthly (or finer) series stamped with its year only: not yearly steps
        raise TimeAxisError(
            "time values are calendar years that repeat: the steps within a year cannot be told apart",
            found=f"units {units!r}, {years.size} steps, {unique[np.argmax(counts)]} {counts.max()} times",
            expected="one value per year (yearly means), or '<unit> since <date>' stamps for monthly steps",
            hint="stamp each month, e.g. cdo settaxis,YYYY-01-15,00:00:00,1mon IN OUT (YYYY: the first year)",
            **where,
        )
    return TimeLabels(years, np.ones_like(years), calendar, np.zeros(years.shape, dtype=bool))


def _parse_since(units: str) -> tuple[str, int, int, int]:
    match = _SINCE.match(units)
    if not match:
        raise TimeAxisError(
            "time units not of the form '<unit> since <date>'",
            found=repr(units),
            expected="e.g. 'days since 1901-01-01' or 'years since AD 1700-Jan-1st'",
        )
    month_text = match.group("month") or "1"
    month = _MONTHS.get(month_text.lower()[:3]) if month_text.isalpha() else int(month_text)
    if month is None or not 1 <= month <= 12:
        raise TimeAxisError("time units have an invalid reference month", found=repr(units))
    return match.group("unit").lower(), int(match.group("year")), month, int(match.group("day") or 1)


def decode_time(time: xr.DataArray, *, file: str | None = None, variable: str | None = None) -> TimeLabels:
    """Year and month of each step of a raw (undecoded) numeric time coordinate.

    Steps are labelled by the date of their value; a value that sits exactly on a
    month or year boundary with a ``months``/``years`` unit labels the period starting
    there. Raises :class:`TimeAxisError` naming the file when the axis cannot be decoded.
    """
    where = {"file": file, "variable": variable}
    units = time.attrs.get("units")
    if units is None:
        raise TimeAxisError("time coordinate has no units", expected="'<unit> since <date>'", **where)
    calendar = calendar_name(time.attrs)
    if calendar not in _CALENDARS:
        raise TimeAxisError("unknown calendar", found=calendar, expected=sorted(_CALENDARS), **where)
    values = np.asarray(time.values, dtype=float)
    if values.size and not np.all(np.isfinite(values)):
        raise TimeAxisError("time values are missing or not finite", found="NaN/inf in time", **where)
    if _YEAR_NUMBERS.match(str(units)):
        return _year_numbers(values, str(units), calendar, where)
    absolute = _ABSOLUTE.match(str(units))
    if absolute:
        return _absolute(values, absolute.group("unit"), calendar, where)
    try:
        unit, ref_year, ref_month, ref_day = _parse_since(str(units))
    except TimeAxisError as exc:
        raise TimeAxisError("undecodable time units", found=exc.found, expected=exc.expected, **where) from exc
    if unit in ("years", "year", "yr"):
        whole = np.floor(values + 1e-9)
        months_into = np.floor((values - whole) * 12 + 1e-6)
        total = (ref_month - 1) + months_into.astype(int)
        boundary = _on_whole(values * 12) & (ref_day == 1)
        return TimeLabels(ref_year + whole.astype(int) + total // 12, total % 12 + 1, calendar, boundary)
    if unit in ("months", "month"):
        total = (ref_month - 1) + np.floor(values + 1e-6).astype(int)
        return TimeLabels(ref_year + total // 12, total % 12 + 1, calendar, _on_whole(values) & (ref_day == 1))
    if unit not in _DAY_FACTORS:
        raise TimeAxisError("unsupported time unit", found=unit, expected="days/hours/months/years", **where)
    days = values * _DAY_FACTORS[unit] + _time_of_day(str(units))  # counted from the reference's 00:00
    try:
        dates = cftime.num2date(days, f"days since {ref_year:04d}-{ref_month:02d}-{ref_day:02d}", calendar)
    except (ValueError, TypeError) as exc:
        raise TimeAxisError("cftime could not decode the time axis", found=f"{units} ({calendar})", **where) from exc
    dates = np.atleast_1d(dates)
    years, months = np.array([d.year for d in dates]), np.array([d.month for d in dates])
    return TimeLabels(years, months, calendar, _month_starts(days, ref_year, ref_month, ref_day, calendar))


def _time_of_day(units: str) -> float:
    """The time of day of the reference date of ``<unit> since <date> [hh[:mm[:ss]]] [+-hh[[:]mm]]`` units,
    in days, in UTC as cftime and UDUNITS count it (``days since 1850-01-01 12:00:00``: 0.5;
    ``... 12:00:00 +12:00``: 0.0; ``... 00:00:00 +06``: -0.25, the evening before)."""
    match = _SINCE.match(units)
    if not match:
        return 0.0
    hour, minute, second = (float(match.group(k) or 0) for k in ("hour", "minute", "second"))
    zone = 0.0
    if match.group("zone"):
        zone = float(match.group("zone_hours")) * 3600.0 + float(match.group("zone_minutes") or 0) * 60.0
        zone = zone if match.group("zone") == "+" else -zone
    return (hour * 3600.0 + minute * 60.0 + second - zone) / 86400.0


def _on_whole(values: np.ndarray) -> np.ndarray:
    """Where ``values`` (months or years counted from a 1st-of-month 00:00 reference) are whole numbers."""
    return np.abs(values - np.round(values)) < 1e-6


def _month_starts(days: np.ndarray, ref_year: int, ref_month: int, ref_day: int, calendar: str) -> np.ndarray:
    """Where ``days`` (days since the reference date) fall at 00:00 on the 1st of a month, to the minute."""
    minutes = np.round(np.asarray(days, dtype=float) * 1440.0) / 1440.0
    units = f"days since {ref_year:04d}-{ref_month:02d}-{ref_day:02d}"
    dates = np.atleast_1d(cftime.num2date(minutes, units, calendar))
    return np.array([d.day == 1 and d.hour == 0 and d.minute == 0 for d in dates], dtype=bool)


def check_monotonic(
    labels: TimeLabels, *, file: str | None = None, variable: str | None = None, raw: xr.DataArray | None = None
) -> None:
    """Raise :class:`TimeAxisError` when steps are not strictly increasing (duplicates included);
    with the ``raw`` time coordinate, its message says which other calendar the values fit
    (:func:`_fitting_calendar`: standard days labelled noleap collide once every 4 x 30 years)."""
    key = labels.year * 12 + labels.month
    steps = np.diff(key)
    per_month = np.unique(key, return_counts=True)[1]
    if key.size > 1 and np.all(steps >= 0) and np.median(per_month) >= 2:  # daily, 3-hourly, 8-day steps
        raise TimeAxisError(
            "time steps shorter than a month",
            file=file,
            variable=variable,
            found=f"{key.size} steps in {per_month.size} months (up to {per_month.max()} a month, first "
            f"{labels.year[0]}-{labels.month[0]:02d})",
            expected="monthly or yearly means",
            hint="average the file to monthly means first (e.g. cdo monmean IN OUT)",
        )
    if key.size > 1 and np.any(steps <= 0):
        first = int(np.argmax(steps <= 0)) + 1
        what = "duplicated" if steps[first - 1] == 0 else "decreasing"
        fits = None if raw is None else _fitting_calendar(raw, labels.calendar)
        raise TimeAxisError(
            "time steps are not increasing",
            file=file,
            variable=variable,
            found=f"{what} time at step {first} ({labels.year[first]}-{labels.month[first]:02d})",
            expected="strictly increasing monthly or yearly steps",
            hint=None
            if fits is None
            else f"the time values fit the {fits!r} calendar, not the {labels.calendar!r} the file states: set the "
            f"time's calendar attribute to {fits!r} (e.g. ncatted -a calendar,time,o,c,{fits} FILE)",
        )


def _fitting_calendar(raw: xr.DataArray, stated: str) -> str | None:
    """Another calendar in which the raw time values decode to strictly increasing steps, or None."""
    for other in ("standard", "noleap", "360_day", "all_leap"):
        if _SAME_DAYS.get(stated, stated) == other:
            continue
        try:
            labels = decode_time(raw.assign_attrs(calendar=other))
        except TimeAxisError:
            continue
        if labels.year.size > 1 and np.all(np.diff(labels.year * 12 + labels.month) > 0):
            return other
    return None


def check_even_steps(
    values: np.ndarray, labels: TimeLabels, *, units: str = "", file: str | None = None, variable: str | None = None
) -> None:
    """Raise :class:`TimeAxisError` when evenly spaced time values give steps of different lengths
    in months: the spacing does not fit the calendar (365-day years labelled ``360_day`` skip a
    year every 72 years; the numbers would be silently shifted). A real gap gives uneven values.

    Yearly steps (most label steps a whole number of years) are compared in years: 365-day
    mid-year stamps in a ``standard`` calendar drift a day every leap year across a month
    boundary (July to June) while every year keeps its label (review 4: such a file was refused).
    """
    values = np.asarray(values, dtype=float)
    if values.size < 3:
        return
    spacing = np.diff(values)
    months = np.diff(labels.year * 12 + labels.month)
    if np.median(months) >= 12 and np.all(months > 6):  # yearly steps: what labels them is the year
        months = 12 * np.diff(labels.year)
    if not np.allclose(spacing, spacing[0], rtol=1e-9, atol=0) or np.all(months == months[0]):
        return
    odd = int(np.argmax(months != np.bincount(months[months > 0]).argmax())) + 1
    raise TimeAxisError(
        "evenly spaced time steps do not fit the calendar",
        file=file,
        variable=variable,
        found=f"steps of {spacing[0]:g} ({units}) in a {labels.calendar} calendar: step {odd} goes from "
        f"{labels.year[odd - 1]}-{labels.month[odd - 1]:02d} to {labels.year[odd]}-{labels.month[odd]:02d}",
        expected="the calendar the time values were written in (e.g. noleap for 365-day years)",
    )


def days_in_month(year: np.ndarray, month: np.ndarray, calendar: str) -> np.ndarray:
    """Number of days of each (year, month) in ``calendar``."""
    if calendar == "360_day":
        return np.full(np.shape(year), 30.0)
    base = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=float)[np.asarray(month) - 1]
    if calendar in ("noleap", "365_day"):
        return base
    if calendar in ("all_leap", "366_day"):
        return np.where(np.asarray(month) == 2, 29.0, base)
    year = np.asarray(year)
    if calendar == "julian":
        leap = year % 4 == 0
    else:
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return np.where((np.asarray(month) == 2) & leap, 29.0, base)


def units_affine(units: str, target: str, calendar: str) -> tuple[float, float] | None:
    """(scale, offset) such that a value v in time ``units`` is v x scale + offset in ``target`` units
    of the same ``calendar`` (float64; exact for whole days, hours or months and integer ratios).

    Units of the day family (days, hours, minutes, seconds, common years: fixed lengths, CF lets each
    file of a series carry its own) convert into one another from any origin; months or years only
    into the same unit from another origin (and years from the same month). None otherwise: then
    the files of a series cannot be put on one axis (the series check refuses them, naming both).
    """
    try:
        (unit, year, month, day), (other, year0, month0, day0) = _parse_since(units), _parse_since(target)
    except TimeAxisError:
        return None
    words = {"month": "months", "year": "years", "yr": "years"}
    unit, other = words.get(unit.lower(), unit.lower()), words.get(other.lower(), other.lower())
    if unit in ("months", "years"):
        if unit != other or day != day0 or (unit == "years" and month != month0):
            return None
        months = (year - year0) * 12 + (month - month0)
        return 1.0, float(months if unit == "months" else months // 12)
    if unit not in _SECONDS or other not in _SECONDS:
        return None
    try:
        origin = cftime.num2date(0.0, units, calendar)
        offset = float(cftime.date2num(origin, target, calendar))
    except (ValueError, TypeError):
        return None
    return _SECONDS[unit] / _SECONDS[other], offset


def on_units(ds: xr.Dataset, tdim: str, bounds: str | None, target_attrs: dict) -> xr.Dataset:
    """``ds`` with its time ``tdim`` (and its CF ``bounds``, in their own units when they state them)
    counted in the units of ``target_attrs`` (a series' first file's time attributes) when the two
    convert into one another in one calendar (:func:`units_affine`: another origin, or days against
    hours); else ``ds`` unchanged (the series check then refuses it, naming the files and both units)."""
    attrs = ds[tdim].attrs if tdim in ds.variables else {}
    units, target = str(attrs.get("units")), str(target_attrs.get("units"))
    if not attrs or units.strip() == target.strip() or same_calendar(attrs) != same_calendar(target_attrs):
        return ds
    calendar = calendar_name(attrs)
    affine = units_affine(units, target, calendar)
    if affine is None:
        return ds
    values = np.asarray(ds[tdim].values, dtype=np.float64) * affine[0] + affine[1]
    out = ds.assign_coords({tdim: (ds[tdim].dims, values, {**attrs, "units": target})})
    if bounds is None or bounds not in ds.variables or "calendar" in ds[bounds].attrs:
        return out  # bounds of a calendar of their own: converted when read (layout.time_values)
    own = ds[bounds].attrs.get("units")
    shift = affine if own is None or str(own).strip() == units.strip() else units_affine(str(own), target, calendar)
    if shift is None:
        return out  # bounds in units that do not convert: read as written (layout.time_values)
    edges = np.asarray(ds[bounds].values, dtype=np.float64) * shift[0] + shift[1]
    bound_attrs = ds[bounds].attrs if own is None else {**ds[bounds].attrs, "units": target}
    setter = out.assign_coords if bounds in ds.coords else out.assign
    return setter({bounds: (ds[bounds].dims, edges, bound_attrs)})
