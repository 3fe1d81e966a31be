"""Spatial and period coverage of a source: recorded as rows, and failing its rows when too low.

Two documented thresholds (issue 13):

- spatial: a source's ``rh_coverage`` is the share of the reference's land area (common
  grid) where the source's period-mean Rh map has values. Below
  :data:`rhbench.metrics.native.COVERAGE_MIN` (80 %) the model's totals, regional totals
  and turnover times are failed rows: summing a model that covers latitudes -40..40 as
  if it were global is a wrong number.
- period: ``period_coverage`` is the share of the benchmark period's years in which every
  variable of the source has data (:func:`years_record`; the years used are the row's ``reason``, e.g. ``years used:
  1982-2014 (33 of 37)``, so a CMIP6 ``historical`` run ending in 2014 says its period
  adapted). Below :data:`PERIOD_COVERAGE_MIN` (80 %) every row of a model (kind ``dgvm``)
  fails: a 1995-2005 model under 1982-2018 (30 %) is not evaluated on the benchmark period.
  Observation products (e.g. an Rh product of 2000-2010) are recorded, never failed: their
  years are the observations there are.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import xarray as xr

from rhbench.metrics.native import COVERAGE_MIN
from rhbench.results import REFERENCE_RH, ScoreRow

#: Minimum share of the benchmark period's years a source must cover (see module doc).
PERIOD_COVERAGE_MIN = 0.8
#: Metrics that are totals or ratios of totals: failed when the spatial coverage is too low.
TOTAL_METRICS = (
    "rh_global",
    "rh_total",
    "rh_mean",
    "csoil_global",
    "cveg_global",
    "tau_soil_global",
    "tau_soil",
    "tau_veg_global",
    "tau_veg",
)
#: Prefix of the 2-box stage's cumulative uptake rows (``dcTotal_constrained``, ...; rhbench.uptake):
#: global sums too, so a model covering part of the land fails them as well.
UPTAKE_PREFIX = "dc"


def years_used(years, period: tuple[int, int]) -> dict:
    """The record of the years of ``years`` inside ``period`` (inclusive).

    Returns ``period_years`` (``"first-last"`` or ``"none"``), ``period_years_used``
    (count), ``period_coverage`` (count / years in ``period``) and, when there are years,
    ``first_year`` and ``last_year`` of all of them.
    """
    every = [int(y) for y in years]
    used = [y for y in every if period[0] <= y <= period[1]]
    record = {
        "period_years": f"{min(used)}-{max(used)}" if used else "none",
        "period_years_used": len(used),
        "period_coverage": len(used) / (period[1] - period[0] + 1),
    }
    if every:
        record.update(first_year=min(every), last_year=max(every))
    return record


def years_record(data: xr.Dataset | xr.DataArray, period: tuple[int, int]) -> dict:
    """:func:`years_used` of the years of ``data`` (dim ``year``) in which every variable has a value:
    the years the source can be evaluated on as a whole. A year written all missing is not a year of
    data (it counted as used, eighth audit), and neither is a year one variable lacks (it counted as
    used while another variable had it: session 7). ``years_without_data`` names each period year a
    variable has no value in, and the variable (its period mean is over its other years: stated in
    the ``period_coverage`` row). With :func:`stamp_notes`."""
    years = data["year"].values
    fields = data.data_vars.items() if isinstance(data, xr.Dataset) else [(data.name, data)]
    every = np.ones(years.size, dtype=bool)
    series = 0
    lacking: list[str] = []
    for name, field in fields:
        if "year" not in field.dims:
            continue
        other = [d for d in field.dims if d != "year"]
        has = np.asarray(field.notnull().any(other).transpose("year").values, dtype=bool)
        every &= has
        series += 1
        empty = [int(y) for y in years[~has] if period[0] <= y <= period[1]]
        lacking += [f"{name} in {_spans(empty)}"] if empty else []
    record = years_used(years[every] if series else years[:0], period)
    if lacking:
        record["years_without_data"] = "; ".join(lacking)
    return {**record, **stamp_notes(data)}


def _spans(years: list[int]) -> str:
    """Sorted years as runs: ``[1990, 1995, 1996, 1997]`` -> ``"1990, 1995-1997"``."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][1] + 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def stamp_notes(data: xr.Dataset | xr.DataArray) -> dict:
    """``{"time_stamps": notes}``: how the time stamps of ``data``'s variables were read when that was
    decided (:mod:`rhbench.stamps`, the ``time_stamps`` attribute), each note once; else empty."""
    found = [data.attrs.get("time_stamps")]
    if isinstance(data, xr.Dataset):
        found += [
            f"{name}: {var.attrs['time_stamps']}"
            for name, var in data.data_vars.items()
            if var.attrs.get("time_stamps")
        ]
    notes = list(dict.fromkeys(str(note) for note in found if note))
    return {"time_stamps": "; ".join(notes)} if notes else {}


def coverage_rows(
    source: str, kind: str, data: xr.Dataset, rh: xr.DataArray | None, land: xr.DataArray, area: xr.DataArray
) -> list[ScoreRow]:
    """``period_coverage``, ``first_year``, ``last_year`` and ``rh_coverage`` rows of one source.

    ``data.attrs`` holds the years used (:func:`rhbench.reduce.period_means`) and how the
    time stamps were read when that was decided (``time_stamps``, in the first_year and
    last_year rows' reasons); ``rh`` is
    the source's period-mean Rh map on the common grid (None: no Rh); ``land`` the
    reference's boolean land mask and ``area`` the cell areas (m2).
    """
    rows = []
    if "period_coverage" in data.attrs:
        share = float(data.attrs["period_coverage"])
        years = f"years used: {data.attrs.get('period_years')} ({data.attrs.get('period_years_used')} years)"
        if data.attrs.get("years_without_data"):
            years += (
                f"; without any value: {data.attrs['years_without_data']} (not counted as used; "
                "each variable's period mean is over the years it has)"
            )
        ok = share >= PERIOD_COVERAGE_MIN or kind != "dgvm"  # observation products are what they are
        reason = (
            years
            if ok
            else f"{years}: below {PERIOD_COVERAGE_MIN:.0%} of the benchmark period (to benchmark the model's own "
            "years, set period = [FIRST, LAST] in the run's --config TOML)"
        )
        rows.append(ScoreRow(source, kind, "period_coverage", "global", "1", share, "ok" if ok else "failed", reason))
    stamped = f"; {data.attrs['time_stamps']}" if data.attrs.get("time_stamps") else ""
    for metric in ("first_year", "last_year"):
        if metric in data.attrs:
            value = float(data.attrs[metric])
            reason = f"of the years every variable of the source has a value in{stamped}"
            rows.append(ScoreRow(source, kind, metric, "global", "year", value, "ok", reason))
    if rh is not None:
        rows.append(_rh_coverage_row(source, kind, rh, land, area))
    return rows


def _rh_coverage_row(source: str, kind: str, rh: xr.DataArray, land: xr.DataArray, area: xr.DataArray) -> ScoreRow:
    """``rh_coverage`` (1): the share of the reference's land area (m2) where ``rh`` has values;
    failed below :data:`COVERAGE_MIN`; undefined (skipped) when the reference has no land (a failed
    reference). Computed on the reference's land: it needs it (:attr:`ScoreRow.needs`)."""
    needs = frozenset({REFERENCE_RH})
    land_area = float(area.where(land, 0.0).sum())
    if not land_area > 0:
        why = "undefined: the reference has no land cells"
        return ScoreRow(source, kind, "rh_coverage", "global", "1", float("nan"), "skipped", why, needs)
    share = float(area.where(land & rh.notnull(), 0.0).sum()) / land_area
    ok = share >= COVERAGE_MIN
    reason = "" if ok else f"Rh covers {share:.0%} of the reference's land area: below {COVERAGE_MIN:.0%}"
    return ScoreRow(source, kind, "rh_coverage", "global", "1", share, "ok" if ok else "failed", reason, needs)


def gate(rows: list[ScoreRow], checks: list[ScoreRow]) -> list[ScoreRow]:
    """``rows`` with the ok ones failed that a failed coverage row in ``checks`` invalidates."""
    out = []
    for row in rows:
        for check in checks:
            if row.status != "ok" or check.status != "failed":
                continue
            if check.metric == "period_coverage" or row.metric in TOTAL_METRICS or row.metric.startswith(UPTAKE_PREFIX):
                row = replace(row, value=float("nan"), status="failed", reason=check.reason)
        out.append(row)
    return out


def gate_sources(rows: list[ScoreRow], checks: list[ScoreRow]) -> list[ScoreRow]:
    """:func:`gate` of rows of many sources, each by its own failed coverage rows in ``checks``.

    Used for the 2-box rows, which are computed after the suite's coverage rows.
    """
    by_source: dict[str, list[ScoreRow]] = {}
    for check in checks:
        if check.metric in ("rh_coverage", "period_coverage"):
            by_source.setdefault(check.source, []).append(check)
    return [gate([row], by_source.get(row.source, []))[0] for row in rows]
