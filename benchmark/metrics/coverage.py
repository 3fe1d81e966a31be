"""Spatial and period coverage of a source: recorded as rows, and failing its rows when too low.

Two documented thresholds (issue 13):

- spatial: a source's ``rh_coverage`` is the share of the reference's land area (common
  grid) where the source's period-mean Rh map has values. Below
  :data:`rhbench.metrics.native.COVERAGE_MIN` (80 %) the model's totals, regional totals
  and turnover times are failed rows: summing a model that covers latitudes -40..40 as
  if it were global is a wrong number.
- period: ``period_coverage`` is the share of the benchmark period's years in which every
  variable of the source has data (:func:`years_record`; the years used are the row's ``reason``, e.g.
  ``years used: 1982-2014 (33 years)``, so a CMIP6 ``historical`` run ending in 2014 says its period
  adapted; when the variables' years differ, the reason adds each variable's, e.g. ``by variable:
  rh: 1982-2018; cSoil: 1982-1990``); ``first_year``/``last_year`` are the first and last of those
  years. Each row of a model (kind ``dgvm``) is judged on the years of the variables it is computed
  from (:func:`gate_years`: the fields of its metric, :attr:`Metric.needs`, mapped to variables by
  :data:`FIELD_VARIABLES`): below :data:`PERIOD_COVERAGE_MIN` (80 %) those rows fail, naming the
  years, and the model's other rows stand (Rh rows on rh's years though cSoil has one snapshot
  year). The 2-box rows are judged the same way on the variables the 2-box reads (npp, rh, cVeg,
  cSoil, litterfall: their :attr:`Metric.needs`; :func:`gate_sources`), so an unused variable (an
  unadded cLitter, an extra gpp) covering fewer years does not fail them. A 1995-2005 model under
  1982-2018 (30 %) fails every row. Observation products (e.g. an
  Rh product of 2000-2010) are recorded, never failed: their years are the observations there are.
  A variable without a time axis covers every year. Turnover times divide means over the years both
  their variables have: :mod:`rhbench.metrics.ratio_years`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

import numpy as np
import xarray as xr

from rhbench.kernels import years_with_values
from rhbench.metrics.definitions import METRICS
from rhbench.metrics.native import COVERAGE_MIN
from rhbench.metrics.rows import UNDEFINED
from rhbench.metrics.totals import covered_areas
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
#: Record key (:func:`years_record`) naming the period years each variable with a time axis has a
#: value in, e.g. ``"rh: 1982-2018; cSoil: 1982-1990"`` (a string: it is kept with the cached products).
BY_VARIABLE = "period_years_by_variable"
#: The model variables each field of the metric table (:data:`rhbench.metrics.definitions.FIELDS`,
#: :attr:`rhbench.metrics.metric.Metric.needs`) is computed from: a row is judged on, and its ratios
#: are averaged over, the years all its fields' variables have (a variable the source lacks, or one
#: without a time axis, limits no year). Litterfall is ``fVegLitter``, else NPP - dcVeg/dt. The soil
#: carbon is ``cSoil`` alone: it holds cLitter where that was added (:func:`rhbench.harmonize.load_source`,
#: so it lacks the years cLitter lacks); a cLitter kept beside a cSoil that already holds the litter is unused.
FIELD_VARIABLES = {
    "npp": ("npp",),
    "rh": ("rh",),
    "csoil": ("cSoil",),
    "cveg": ("cVeg",),
    "litterfall": ("fVegLitter",),
}
#: The variables of the litterfall derived when the source has no ``fVegLitter``.
DERIVED_LITTERFALL = ("npp", "cVeg")
#: Name, in the years record (:data:`BY_VARIABLE`), of the years the derived litterfall has a value in:
#: NPP's years whose neighbours cVeg has (the centred difference of
#: :func:`rhbench.metrics.turnover.time_derivative`), so a year cVeg lacks costs the years either side.
DERIVED_NAME = "litterfall (npp - dcVeg/dt)"
#: Prefix of the 2-box stage's cumulative uptake rows (``dcTotal_constrained``, ...; rhbench.uptake):
#: global sums too, so a model covering part of the land fails them as well.
UPTAKE_PREFIX = "dc"


def years_used(years: Iterable[int], period: tuple[int, int]) -> dict:
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
    own: dict[str, str] = {}
    flags: dict[str, np.ndarray] = {}
    for name, field in fields:
        if "year" not in field.dims:
            continue
        has = flags[str(name)] = years_with_values(field)
        every &= has
        series += 1
        empty = [int(y) for y in years[~has] if period[0] <= y <= period[1]]
        lacking += [f"{name} in {year_spans(empty)}"] if empty else []
        own[str(name)] = year_spans([int(y) for y in years[has] if period[0] <= y <= period[1]]) or "none"
    if "fVegLitter" not in flags and "npp" in flags and "cVeg" in flags:
        has = _derived_litter_flags(flags["npp"], flags["cVeg"])
        own[DERIVED_NAME] = year_spans([int(y) for y in years[has] if period[0] <= y <= period[1]]) or "none"
    record = years_used(years[every] if series else years[:0], period)
    if lacking:
        record["years_without_data"] = "; ".join(lacking)
    if own:
        record[BY_VARIABLE] = "; ".join(f"{name}: {spans}" for name, spans in own.items())
    return {**record, **stamp_notes(data)}


def _derived_litter_flags(npp: np.ndarray, cveg: np.ndarray) -> np.ndarray:
    """The years (flags, one per year) ``npp - dcVeg/dt`` has a value in: NPP's, where cVeg has both
    years of the difference (centred inside, one-sided at the ends: ``time_derivative``)."""
    if cveg.size < 2:
        return np.zeros(cveg.size, dtype=bool)
    pair = np.empty(cveg.size, dtype=bool)
    pair[1:-1] = cveg[:-2] & cveg[2:]
    pair[0], pair[-1] = cveg[0] & cveg[1], cveg[-1] & cveg[-2]
    return npp & pair


def year_spans(years: list[int]) -> str:
    """Sorted years as runs: ``[1990, 1995, 1996, 1997]`` -> ``"1990, 1995-1997"``."""
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in _runs(years))


def _runs(years: Iterable[int]) -> list[list[int]]:
    """The runs of consecutive years, each as [first, last], in order."""
    runs: list[list[int]] = []
    for year in sorted(years):
        if runs and year == runs[-1][1] + 1:
            runs[-1][1] = year
        else:
            runs.append([year, year])
    return runs


def period_hint(years: Iterable[int] | None) -> str:
    """What a model whose variables share too few of the period's ``years`` can do (None: not known):
    set its own years as the period when they are one run; when years inside lack a value, check
    its files (a shorter period still has the gaps unless it avoids them: the longest run is named)."""
    runs = _runs(years) if years is not None else []
    if years is None or len(runs) == 1:
        here = f": [{runs[0][0]}, {runs[0][1]}] here" if runs else ""
        return f" (to benchmark the model's own years, set period = [FIRST, LAST] in the run's --config TOML{here})"
    if not runs:
        return " (no year of the period has a value in all of them: check the model's files)"
    first, last = max(runs, key=lambda run: run[1] - run[0])
    return (
        f" (years inside {runs[0][0]}-{runs[-1][1]} lack a value: check the model's files for them; a period "
        f"without those gaps, set period = [FIRST, LAST] in the run's --config TOML, e.g. [{first}, {last}], "
        "benchmarks the years there are)"
    )


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
    rows = [] if "period_coverage" not in data.attrs else [_period_row(source, kind, data.attrs)]
    stamped = f"; {data.attrs['time_stamps']}" if data.attrs.get("time_stamps") else ""
    for metric in ("first_year", "last_year"):
        if metric in data.attrs:
            value = float(data.attrs[metric])
            reason = f"of the years every variable of the source has a value in{stamped}"
            rows.append(ScoreRow(source, kind, metric, "global", "year", value, "ok", reason))
    if rh is not None:
        rows.append(_rh_coverage_row(source, kind, rh, land, area))
    return rows


def _period_row(source: str, kind: str, record: Mapping) -> ScoreRow:
    """``period_coverage`` (1): the share of the period's years every variable has a value in; its
    reason names them and, when the variables differ, each variable's years. Failed below
    :data:`PERIOD_COVERAGE_MIN` for a model, which fails its 2-box rows (computed from every
    variable); its other rows are judged on their own variables' years (:func:`gate_years`)."""
    share = float(record["period_coverage"])
    years = f"years used: {record.get('period_years')} ({record.get('period_years_used')} years)"
    if record.get("years_without_data"):
        years += (
            f"; without any value: {record['years_without_data']} (not counted as used; a row is judged on, "
            "and its ratios averaged over, the years its own variables all have)"
        )
    own = by_variable(record)
    if len({tuple(v) for v in own.values()}) > 1:
        years += f"; by variable: {record[BY_VARIABLE]}"
    ok = share >= PERIOD_COVERAGE_MIN or kind != "dgvm"  # observation products are what they are
    if ok:
        return ScoreRow(source, kind, "period_coverage", "global", "1", share, "ok", years)
    reason = (
        f"{years}: below {PERIOD_COVERAGE_MIN:.0%} of the benchmark period (fails the 2-box rows; each other row "
        f"fails if its own variables share fewer years){period_hint(_every_year(record))}"
    )
    return ScoreRow(source, kind, "period_coverage", "global", "1", share, "failed", reason)


def _every_year(record: Mapping) -> list[int] | None:
    """The period years every variable has a value in, from ``record`` (None when it cannot say)."""
    own = {name: years for name, years in by_variable(record).items() if name != DERIVED_NAME}
    if own:
        return sorted(set.intersection(*(set(years) for years in own.values())))
    first, _, last = str(record.get("period_years", "")).partition("-")
    if first.isdigit() and last.isdigit() and int(last) - int(first) + 1 == record.get("period_years_used"):
        return list(range(int(first), int(last) + 1))
    return None


def _rh_coverage_row(source: str, kind: str, rh: xr.DataArray, land: xr.DataArray, area: xr.DataArray) -> ScoreRow:
    """``rh_coverage`` (1): the share of the reference's land area (m2) where ``rh`` has values;
    failed below :data:`COVERAGE_MIN`; undefined (skipped) when the reference has no land (a failed
    reference). Computed on the reference's land: it needs it (:attr:`ScoreRow.needs`)."""
    needs = frozenset({REFERENCE_RH})
    land_area, covered = covered_areas(rh, land, area)
    if not land_area > 0:
        why = "undefined: the reference has no land cells"
        return ScoreRow(source, kind, "rh_coverage", "global", "1", float("nan"), "skipped", why, needs)
    share = covered / land_area
    ok = share >= COVERAGE_MIN
    reason = "" if ok else f"Rh covers {share:.0%} of the reference's land area: below {COVERAGE_MIN:.0%}"
    return ScoreRow(source, kind, "rh_coverage", "global", "1", share, "ok" if ok else "failed", reason, needs)


def gate(rows: list[ScoreRow], checks: list[ScoreRow]) -> list[ScoreRow]:
    """``rows`` with the ok ones failed that a failed coverage row in ``checks`` invalidates: a failed
    ``rh_coverage`` the totals (and uptake), a failed ``period_coverage`` the rows computed from every
    variable (the 2-box rows: metrics without fields of their own; the others: :func:`gate_years`)."""
    out = []
    for row in rows:
        for check in checks:
            if row.status != "ok" or check.status != "failed":
                continue
            if check.metric == "period_coverage":
                hit = not _own_fields(row.metric)
            else:
                hit = row.metric in TOTAL_METRICS or row.metric.startswith(UPTAKE_PREFIX)
            if hit:
                row = replace(row, value=float("nan"), status="failed", reason=check.reason)
        out.append(row)
    return out


def _own_fields(metric: str) -> tuple[str, ...]:
    """The fields metric ``metric`` is computed from (:attr:`Metric.needs`); empty for one without."""
    spec = METRICS.get(metric)
    return spec.needs if spec is not None else ()


def gate_years(rows: list[ScoreRow], kind: str, record: Mapping, period: tuple[int, int]) -> list[ScoreRow]:
    """``rows`` of a model (kind ``dgvm``) with the ok ones (and those undefined: a mean over no
    common year is NaN) failed whose own variables (the fields of
    their metric, :data:`FIELD_VARIABLES`) all have a value in fewer than :data:`PERIOD_COVERAGE_MIN`
    of ``period``'s years (``record``: :func:`years_record`); the reason names those years."""
    if kind != "dgvm":
        return rows
    verdicts: dict[tuple[str, ...], str] = {}
    out = []
    for row in rows:
        needs = _own_fields(row.metric)
        if needs and (row.status == "ok" or row.reason.startswith(UNDEFINED)):  # NaN from no common year
            if needs not in verdicts:
                verdicts[needs] = _too_few_years(record, needs, period)
            if verdicts[needs]:
                row = replace(row, value=float("nan"), status="failed", reason=verdicts[needs])
        out.append(row)
    return out


def _too_few_years(record: Mapping, needs: tuple[str, ...], period: tuple[int, int]) -> str:
    """Why fields ``needs`` cover too few of ``period``'s years ("" when enough)."""
    if BY_VARIABLE not in record:  # no years per variable recorded: those every variable has
        share = float(record.get("period_coverage", 1.0))
        return (
            ""
            if share >= PERIOD_COVERAGE_MIN
            else f"years used: {record.get('period_years')}: below "
            + (f"{PERIOD_COVERAGE_MIN:.0%} of the benchmark period{period_hint(_every_year(record))}")
        )
    names, years = common_years(record, needs, period)
    length = period[1] - period[0] + 1
    if len(years) / length >= PERIOD_COVERAGE_MIN:
        return ""
    return (
        f"computed from {', '.join(names)}: the years all have a value in, {year_spans(years) or 'none'} "
        f"({len(years)} of the {length} years {period[0]}-{period[1]}), are below {PERIOD_COVERAGE_MIN:.0%} "
        f"of the benchmark period{period_hint(years)}"
    )


def variables_of(needs: Iterable[str], present: Iterable[str]) -> tuple[str, ...]:
    """The variables of ``present`` fields ``needs`` are computed from (:data:`FIELD_VARIABLES`;
    litterfall, when ``fVegLitter`` is not present, the derived one's years, :data:`DERIVED_NAME`,
    else :data:`DERIVED_LITTERFALL`)."""
    have = set(present)
    out: list[str] = []
    for field in needs:
        names = FIELD_VARIABLES.get(field, ())
        if field == "litterfall" and "fVegLitter" not in have:
            names = (DERIVED_NAME,) if DERIVED_NAME in have else DERIVED_LITTERFALL
        out += [name for name in names if name in have and name not in out]
    return tuple(out)


def by_variable(record: Mapping) -> dict[str, list[int]]:
    """Variable -> its period years with a value, read from ``record[BY_VARIABLE]`` ({} when absent)."""
    out: dict[str, list[int]] = {}
    for item in filter(None, str(record.get(BY_VARIABLE, "")).split("; ")):
        name, _, spans = item.partition(": ")
        years: list[int] = []
        for run in spans.split(", ") if spans != "none" else []:
            first, _, last = run.partition("-")
            years += range(int(first), int(last or first) + 1)
        out[name] = years
    return out


def common_years(record: Mapping, needs: Iterable[str], period: tuple[int, int]) -> tuple[tuple[str, ...], list[int]]:
    """The variables fields ``needs`` are computed from, and the years of ``period`` all of them have
    a value in (``record``: :func:`years_record`; a variable not recorded, e.g. static, limits none)."""
    own = by_variable(record)
    names = variables_of(needs, own)
    years = set(range(period[0], period[1] + 1))
    for name in names:
        years &= set(own[name])
    return names, sorted(years)


def gate_sources(
    rows: list[ScoreRow], checks: list[ScoreRow], products: Mapping | None = None, period: tuple[int, int] = (0, 0)
) -> list[ScoreRow]:
    """:func:`gate` of rows of many sources, each by its own failed coverage rows in ``checks``, then
    :func:`gate_years` of each model's rows on its years record (``products``: source -> its annual
    fields or period means, whose attrs hold the record; ``period``: the benchmark period). A source
    not in ``products`` is judged by its failed ``period_coverage`` row.

    Used for the 2-box rows, which are computed after the suite's coverage rows.
    """
    by_source: dict[str, list[ScoreRow]] = {}
    for check in checks:
        if check.metric in ("rh_coverage", "period_coverage"):
            by_source.setdefault(check.source, []).append(check)
    records = {n: d.attrs if "year" not in d.dims else years_record(d, period) for n, d in (products or {}).items()}
    out = []
    for row in rows:
        own = by_source.get(row.source, [])
        row = gate([row], own)[0]
        if row.source in records:  # on the years of the variables its metric reads
            row = gate_years([row], row.kind, records[row.source], period)[0]
        elif row.status == "ok" and _own_fields(row.metric):  # no years record: every variable's years
            failed = [c for c in own if c.metric == "period_coverage" and c.status == "failed"]
            row = replace(row, value=float("nan"), status="failed", reason=failed[0].reason) if failed else row
        out.append(row)
    return out
