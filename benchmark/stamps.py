"""Which step a time stamp without CF time bounds labels: the one it is in, or the one it ends.

A stamp inside its interval (mid-month; mid-year, as CMOR writes annual means; 31 December)
labels the month or year it falls in, and a file with CF bounds is labelled by the middle
of its bounds (:func:`rhbench.layout.time_values`): neither is decided here. A stamp at
00:00 on the 1st of a month is ambiguous without bounds: it may start its step (1 January
2000 for the year 2000) or end the previous one (1 January 2001 for 2000, as CESM/CLM
history files and some TRENDY files write). The evidence used:

- monthly steps: the reading that gives whole calendar years (January..December) wins;
  stamps from 1 February to 1 January are the ends of the months of whole years;
- yearly steps stamped at 1 January: the years the file says it covers, first from its
  name (``..._2000-2014.nc``, CMIP6's DRS; ``_200001-201412``), then the period its
  plugin declares (:attr:`rhbench.sources.Source.period`). Stamps one year after the
  stated first and/or last year are year ends; stamps on them are year starts. When
  neither tells, the source fails (:class:`~rhbench.errors.TimeAxisError` naming the
  file): reading a year late would be a silent wrong number. A single yearly step with no
  evidence is read as the start of its year, and the note says it was assumed.

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

#: Years at the end of a file name: ``_YYYY[MM[DD[hh[mm]]]]-YYYY[...]`` (CMIP6 DRS and the like).
_NAME_YEARS = re.compile(r"_(?P<first>\d{4})(?:\d{2}){0,4}-(?P<last>\d{4})(?:\d{2}){0,4}\.nc(?:\.gz)?$")


@dataclass(frozen=True)
class Reading:
    """How the stamps of one series are read.

    ``shift``: months subtracted from every step's (year, month) label: 0 (each stamp labels
    the step it is in), 1 (monthly stamps at the end of their month) or 12 (yearly stamps at
    the end of their year). ``note``: what was decided and why ("" when nothing was ambiguous).
    """

    shift: int = 0
    note: str = ""


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
    file: str | None = None,
    variable: str | None = None,
) -> Reading:
    """How to read ``labels`` decoded from stamps without usable bounds (see the module doc).

    ``period``: the years the plugin declares; ``named``: the years in the file names
    (:func:`file_years`). Raises :class:`TimeAxisError` naming ``file`` and ``variable`` when
    several yearly stamps at 1 January 00:00 cannot be told to be year starts or year ends.
    """
    if labels.boundary is None or labels.year.size == 0 or not np.all(labels.boundary):
        return Reading()
    key = labels.year * 12 + labels.month - 1
    steps = np.diff(key)
    if key.size > 1 and np.all(steps == 1):
        return _monthly(labels)
    if np.all(labels.month == 1) and np.all(steps > 0) and np.all(steps % 12 == 0):
        return _yearly(labels, period=period, named=named, file=file, variable=variable)
    return Reading()


def shifted(labels: TimeLabels, reading: Reading) -> TimeLabels:
    """``labels`` moved ``reading.shift`` months earlier (the steps the stamps end)."""
    if reading.shift == 0:
        return labels
    key = labels.year * 12 + labels.month - 1 - reading.shift
    return replace(labels, year=key // 12, month=key % 12 + 1)


def _monthly(labels: TimeLabels) -> Reading:
    """Monthly stamps at the 1st 00:00: month ends when that reading (and only it) gives whole years."""
    first, last = int(labels.month[0]), int(labels.month[-1])
    if (first, last) == (2, 1):
        return Reading(
            1,
            f"monthly time stamps at 00:00 on the 1st of each month and no time bounds: read as the END of "
            f"each month ({labels.year[0]}-02-01 labels January {labels.year[0]}), the reading that gives whole "
            "calendar years",
        )
    return Reading()


def _yearly(
    labels: TimeLabels,
    *,
    period: tuple[int, int] | None,
    named: tuple[int, int] | None,
    file: str | None,
    variable: str | None,
) -> Reading:
    """Yearly stamps at 1 January 00:00: year starts or year ends, by the years the file says it covers."""
    first, last = int(labels.year[0]), int(labels.year[-1])
    what = "yearly time stamps at 00:00 on 1 January and no time bounds"
    for origin, years in (("its file name", named), ("its plugin's period", period)):
        if years is None:
            continue
        ends = (first == years[0] + 1) + (last == years[1] + 1)
        starts = (first == years[0]) + (last == years[1])
        says = f"stamps {first}-{last}, {origin} says {years[0]}-{years[1]}"
        if ends > starts:
            return Reading(12, f"{what}: read as the END of each year ({first}-01-01 labels {first - 1}; {says})")
        if starts > ends:
            return Reading(0, f"{what}: read as the start of each year ({first}-01-01 labels {first}; {says})")
    if labels.year.size == 1:
        return Reading(0, f"{what}: one step, read as the start of {first} (assumed: no file-name years, no period)")
    raise TimeAxisError(
        f"{what}: cannot tell whether each stamp starts its year or ends the year before",
        file=file,
        variable=variable,
        found=f"{labels.year.size} stamps {first}-01-01 .. {last}-01-01; "
        f"file-name years {named}, plugin period {period}",
        expected="time bounds (a CF 'bounds' variable such as time_bnds), mid-year stamps, or the covered years in "
        "the file name (_YYYY-YYYY.nc) or the plugin's period",
    )
