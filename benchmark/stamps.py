"""Which step a time stamp without CF time bounds labels: the one it is in, or the one it ends.

A stamp inside its interval (mid-month; mid-year, as CMOR writes annual means; 31 December)
labels the month or year it falls in, and a file with CF bounds is labelled by the middle
of its bounds (:func:`rhbench.layout.time_values`): neither is decided here. A stamp at
00:00 on the 1st of a month is ambiguous without bounds: it may start its step (1 January
2000 for the year 2000) or end the previous one (1 January 2001 for 2000, as CESM/CLM
history files and some TRENDY files write). The evidence used:

- monthly steps: the reading that gives whole calendar years (January..December) wins;
  stamps from 1 February to 1 January are the ends of the months of whole years;
- yearly steps stamped at 1 January: first the years the file names
  (``..._2000-2014.nc``, CMIP6's DRS; ``_200001-201412``): stamps one year after the named
  first and/or last year are year ends, stamps on them year starts. Then what the plugin
  declares (:attr:`rhbench.sources.Source.year_stamps`: ``"start"`` or ``"end"``; a file
  name saying otherwise fails), which settles what the files cannot. Then the period its
  plugin declares (:attr:`rhbench.sources.Source.period`), the years the model covers: the
  reading under which the file covers the whole period, when only one does (1700-2018
  stamps under 1901-2018 are starts: as ends the file would lack 2018); when neither does,
  the edge the file shares with the period (stamps 1902-2010 under 1901-2018 are ends).
  When both readings cover it (the file runs past the period: stamps 1901-2019 under
  1901-2018 are 1901-2019 as starts or 1900-2018 as ends) the period cannot tell, and a
  first stamp at the time units' reference date (value 0: a model counting from the start
  of its run, 'days since 1700-01-01' from 1700) is read as year starts. That is an
  ASSUMPTION, logged as a warning and stated as one: a file re-written by xarray (whose
  default units count from the first stamp) or CDO has value 0 first whatever its stamps
  mark, so year ends re-written that way are read a year late: time bounds or the plugin's
  ``year_stamps`` decide instead (docs/trust-cases.md, Review 5 (session 7), R5-4). Evidence
  that disagrees, or none, fails the source (:class:`~rhbench.errors.TimeAxisError` naming
  the file): reading a year late would be a
  silent wrong number. A single yearly step with no evidence is read as the start of its
  year, and the note says it was assumed.

Whatever is decided is stated (:attr:`Reading.note`): logged, and recorded on the data as
the ``time_stamps`` attribute (in the source's ``first_year``/``last_year`` rows).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from rhbench.errors import TimeAxisError
from rhbench.timeaxis import TimeLabels

#: Why a first stamp at the units' reference date is no proof of year starts (said with the assumption).
_REWRITTEN = (
    "a file re-written by xarray or CDO counts from its first stamp whatever it marks: if these stamps are "
    "year ends, every year is read one year late; declare year_stamps='end' in the plugin or give the file time "
    "bounds (time_bnds) to decide"
)
#: Years at the end of a file name: ``_YYYY[MM[DD[hh[mm]]]]-YYYY[...]`` (CMIP6 DRS and the like).
_NAME_YEARS = re.compile(r"_(?P<first>\d{4})(?:\d{2}){0,4}-(?P<last>\d{4})(?:\d{2}){0,4}\.nc(?:\.gz)?$")


@dataclass(frozen=True)
class Reading:
    """How the stamps of one series are read.

    ``shift``: months subtracted from every step's (year, month) label: 0 (each stamp labels
    the step it is in), 1 (monthly stamps at the end of their month) or 12 (yearly stamps at
    the end of their year). ``note``: what was decided and why ("" when nothing was ambiguous).
    ``assumed``: the decision rests on the reference-date assumption (see the module doc): warned of.
    """

    shift: int = 0
    note: str = ""
    assumed: bool = False


def file_years(paths: Sequence[str | Path]) -> tuple[int, int] | None:
    """(first, last) year named by a series' file names (``_2000-2014.nc``), or None if any lacks it."""
    spans = [_NAME_YEARS.search(Path(p).name) for p in paths]
    if not spans or any(m is None for m in spans):
        return None
    return min(int(m["first"]) for m in spans), max(int(m["last"]) for m in spans)


def read(
    labels: TimeLabels,
    *,
    period: tuple[int, int] | None = None,
    named: tuple[int, int] | None = None,
    declared: str | None = None,
    at_reference: bool = False,
    file: str | None = None,
    variable: str | None = None,
    ignored_bounds: str | None = None,
) -> Reading:
    """How to read ``labels`` decoded from stamps without usable bounds (see the module doc).

    ``period``: the years the plugin declares; ``named``: the years in the file names
    (:func:`file_years`); ``declared``: the plugin's ``year_stamps`` (``"start"``, ``"end"`` or
    None); ``at_reference``: the first stamp is the time units' reference date
    (value 0); ``ignored_bounds``: the name of the file's CF time bounds when it has some that do not
    contain their stamps (ignored: the messages say so, not "no time bounds"). Raises
    :class:`TimeAxisError` naming ``file`` and ``variable`` when several yearly stamps at 1 January
    00:00 cannot be told to be year starts or year ends.
    """
    if labels.boundary is None or labels.year.size == 0 or not np.all(labels.boundary):
        return Reading()
    key = labels.year * 12 + labels.month - 1
    steps = np.diff(key)
    if key.size > 1 and np.all(steps == 1):
        return _monthly(labels, ignored_bounds)
    if np.all(labels.month == 1) and np.all(steps > 0) and np.all(steps % 12 == 0):
        evidence = {"period": period, "named": named, "declared": declared, "at_reference": at_reference}
        return _yearly(labels, **evidence, file=file, variable=variable, ignored_bounds=ignored_bounds)
    return Reading()


def _without_bounds(ignored_bounds: str | None) -> str:
    """How a file's stamps come to be read without bounds: it has none, or its bounds were ignored."""
    if ignored_bounds is None:
        return "no time bounds"
    return f"time bounds {ignored_bounds} that do not contain them (ignored)"


def shifted(labels: TimeLabels, reading: Reading) -> TimeLabels:
    """``labels`` moved ``reading.shift`` months earlier (the steps the stamps end)."""
    if reading.shift == 0:
        return labels
    key = labels.year * 12 + labels.month - 1 - reading.shift
    return replace(labels, year=key // 12, month=key % 12 + 1)


def _monthly(labels: TimeLabels, ignored_bounds: str | None = None) -> Reading:
    """Monthly stamps at the 1st 00:00: month ends when that reading (and only it) gives whole years."""
    first, last = int(labels.month[0]), int(labels.month[-1])
    if (first, last) == (2, 1):
        return Reading(
            1,
            f"monthly time stamps at 00:00 on the 1st of each month and {_without_bounds(ignored_bounds)}: "
            "read as the END of "
            f"each month ({labels.year[0]}-02-01 labels January {labels.year[0]}), the reading that gives whole "
            "calendar years",
        )
    return Reading()


def _yearly(
    labels: TimeLabels,
    *,
    period: tuple[int, int] | None,
    named: tuple[int, int] | None,
    declared: str | None,
    at_reference: bool,
    file: str | None,
    variable: str | None,
    ignored_bounds: str | None = None,
) -> Reading:
    """Yearly stamps at 1 January 00:00: year starts or year ends, by the evidence the module doc lists."""
    first, last = int(labels.year[0]), int(labels.year[-1])
    what = f"yearly time stamps at 00:00 on 1 January and {_without_bounds(ignored_bounds)}"
    bounds = "time bounds (a CF 'bounds' variable such as time_bnds)"
    if ignored_bounds is not None:
        bounds = f"time bounds that contain their stamps ({ignored_bounds} do not: correct or remove them)"
    shift, says, disagree, assumed = _evidence(
        first, last, period=period, named=named, declared=declared, at_reference=at_reference
    )
    if shift == 12:
        return Reading(12, f"{what}: read as the END of each year ({first}-01-01 labels {first - 1}; {says})")
    if shift == 0:
        return Reading(0, f"{what}: read as the start of each year ({first}-01-01 labels {first}; {says})", assumed)
    if labels.year.size == 1 and not disagree:
        return Reading(0, f"{what}: one step, read as the start of {first} (assumed: no file-name years, no period)")
    raise TimeAxisError(
        f"{what}: cannot tell whether each stamp starts its year or ends the year before",
        file=file,
        variable=variable,
        found=f"{labels.year.size} stamps {first}-01-01 .. {last}-01-01; "
        f"file-name years {named}, plugin period {period}" + (f" ({says})" if says else ""),
        expected=f"{bounds}, mid-year stamps, the covered years in the file name (_YYYY-YYYY.nc), or the "
        "plugin's year_stamps ('start' or 'end')",
    )


def _evidence(
    first: int,
    last: int,
    *,
    period: tuple[int, int] | None,
    named: tuple[int, int] | None,
    declared: str | None,
    at_reference: bool,
) -> tuple[int | None, str, bool, bool]:
    """(shift or None, why, the evidence disagrees, the reading is assumed) of yearly 1 January stamps
    ``first``..``last``, from the evidence in the module doc's order."""
    shift, says = _by_name(first, last, named)
    if declared is not None:
        wanted = 0 if declared == "start" else 12
        says = "; ".join(filter(None, [says, f"its plugin declares year_stamps={declared!r}"]))
        if shift is not None and shift != wanted:
            return None, f"{says}: the evidence disagrees", True, False
        return wanted, says, False, False
    if shift is None:
        shift, says = _by_period(first, last, period)
    reference = f"the first stamp is the time units' reference date ({first}-01-01)"
    if at_reference and shift == 12:
        return None, f"{says}; but {reference}: the evidence disagrees", True, False
    if at_reference and shift is None:
        return 0, "; ".join(filter(None, [says, f"{reference}: ASSUMED year starts ({_REWRITTEN})"])), False, True
    return shift, says, False, False


def _by_name(first: int, last: int, named: tuple[int, int] | None) -> tuple[int | None, str]:
    """(shift, why) from the years the file names: the reading whose years share more edges with them."""
    if named is None:
        return None, ""
    ends = (first == named[0] + 1) + (last == named[1] + 1)
    starts = (first == named[0]) + (last == named[1])
    says = f"stamps {first}-{last}, its file name says {named[0]}-{named[1]}"
    return (12 if ends > starts else 0 if starts > ends else None), says


def _by_period(first: int, last: int, period: tuple[int, int] | None) -> tuple[int | None, str]:
    """(shift, why) from the plugin's period: the only reading that covers it, else the edge shared with it.

    A file that covers the period either way (it runs past the period's end as year starts)
    is not decided here (shift None, with the reason)."""
    if period is None:
        return None, ""
    says = f"stamps {first}-{last}, its plugin's period says {period[0]}-{period[1]}"
    as_starts = first <= period[0] and last >= period[1]
    as_ends = first - 1 <= period[0] and last - 1 >= period[1]
    if as_starts and as_ends:
        return None, (
            f"{says}: the file covers the period read either way ({first}-{last} as year starts, "
            f"{first - 1}-{last - 1} as year ends)"
        )
    if as_starts != as_ends:
        return (0 if as_starts else 12), f"{says}: only this reading covers the period"
    ends = (first == period[0] + 1) + (last == period[1] + 1)
    starts = (first == period[0]) + (last == period[1])
    return (12 if ends > starts else 0 if starts > ends else None), says
