"""Turnover times from period means over the years both their variables have (session 7, S7-7).

A turnover time divides two period means: tau_soil = (cSoil + cLitter) / Rh, tau_veg = cVeg /
litterfall. When a model's variables cover different years of the benchmark period (cSoil
1986-2018 beside Rh 1982-2018), each plain period mean is over its own variable's years, so
the ratio would divide means over different years. :func:`ratio_means` adds, for such a ratio
only, the means of its two variables over the years both have (named
``<variable>__<ratio>``, e.g. ``rh__tau_soil``), which :func:`rhbench.metrics.native.native_totals`
and :func:`over_common_years` use for every row computed from both (turnover times, their
per-cell scores and the bias attribution, and the turnover maps drawn from them:
:mod:`rhbench.metrics.map_years`). Where the variables cover the same years nothing is
added and every number is the plain mean's. Rows computed from one variable (Rh totals,
cSoil totals) keep that variable's own years. Variables without a time axis (the observed
cSoil) cover every year.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace

import xarray as xr

from rhbench.errors import MissingVariableError
from rhbench.metrics.coverage import FIELD_VARIABLES, by_variable, common_years, year_spans, years_record
from rhbench.metrics.definitions import METRICS
from rhbench.metrics.turnover import TURNOVER_RATIOS, aligned_name, litterfall
from rhbench.results import ScoreRow

#: Each ratio of period means (:data:`TURNOVER_RATIOS`): its name, and the (field of the metric
#: table, variable of the means) of its stock and flux (fields from :data:`FIELD_VARIABLES`).
_FIELDS = {variable: field for field, variables in FIELD_VARIABLES.items() for variable in variables}
RATIOS = tuple((name, (_FIELDS[stock], stock), (_FIELDS[flux], flux)) for name, stock, flux in TURNOVER_RATIOS)


def ratio_years(record: Mapping, ratio: str, period: tuple[int, int]) -> list[int] | None:
    """The years of ``period`` both variables of ``ratio`` have, when they differ from either's own
    years (``record``: :func:`rhbench.metrics.coverage.years_record`); None when the plain means serve."""
    stock, flux = next((s[0], f[0]) for name, s, f in RATIOS if name == ratio)
    names, years = common_years(record, (stock, flux), period)
    own = by_variable(record)
    if len(names) < 2 or all(own[name] == years for name in names):
        return None
    return years


def ratio_means(annual: xr.Dataset, period: tuple[int, int], record: Mapping) -> dict[str, xr.DataArray]:
    """For each ratio whose variables cover different years of ``period``: the means (float64,
    non-missing values, units of ``annual``) of its stock and flux over the years both have,
    named :func:`aligned_name`; litterfall derived (NPP - dcVeg/dt) when ``fVegLitter`` is absent."""
    out: dict[str, xr.DataArray] = {}
    for ratio, (_, stock), (_, flux) in RATIOS:
        years = ratio_years(record, ratio, period)
        if years is None:
            continue
        series = {stock: annual[stock]} if stock in annual else {}
        if flux in annual:
            series[flux] = annual[flux]
        elif ratio == "tau_veg":
            around = annual[["npp", "cVeg"]].sel(year=slice(period[0] - 1, period[1] + 1)).astype("float64")
            try:
                series[flux] = litterfall(around)
            except MissingVariableError:
                continue
        if len(series) < 2:
            continue
        for name, data in series.items():
            kept = data.sel(year=slice(*period)).astype("float64")
            kept = kept.where(kept["year"].isin(years))
            out[aligned_name(name, ratio)] = kept.mean("year").rename(aligned_name(name, ratio))
    return out


def over_common_years(
    rows: list[ScoreRow],
    found: dict[str, xr.DataArray],
    aligned: Mapping[str, xr.DataArray],
    record: Mapping,
    period: tuple[int, int],
    compute: Callable[[dict[str, xr.DataArray]], list[ScoreRow]],
) -> list[ScoreRow]:
    """``rows`` with those computed from both variables of a ratio recomputed (``compute``, from
    period-mean fields like ``found``) with the ratio's means over common years (``aligned``:
    :func:`ratio_means`, on ``found``'s grid and land), their reason naming those years."""
    for ratio, (stock_key, stock), (flux_key, flux) in RATIOS:
        names = (aligned_name(stock, ratio), aligned_name(flux, ratio))
        years = ratio_years(record, ratio, period)
        if years is None or not all(name in aligned for name in names):
            continue
        redone = compute({**found, stock_key: aligned[names[0]], flux_key: aligned[names[1]]})
        again = {(r.metric, r.region): r for r in redone}
        note = f"{ratio} from means of {stock} and {flux} over the years both have: {year_spans(years) or 'none'}"
        rows = [_restated(r, again, {stock_key, flux_key}, note) for r in rows]
    return rows


def _restated(row: ScoreRow, again: dict[tuple[str, str], ScoreRow], fields: set[str], note: str) -> ScoreRow:
    """``again``'s row for ``row`` (with ``note`` in its reason) when ``row``'s metric uses ``fields``."""
    spec = METRICS.get(row.metric)
    new = again.get((row.metric, row.region))
    if spec is None or new is None or not fields <= set(spec.needs) or row.status == "failed":
        return row
    reason = f"{new.reason}; {note}" if new.reason else note
    return replace(new, reason=reason, needs=row.needs | new.needs)


def aligned_fields(
    data: xr.Dataset | xr.DataArray, period: tuple[int, int], land: xr.DataArray
) -> tuple[dict[str, xr.DataArray], Mapping]:
    """The means over common years of ``data`` (annual fields, or period means holding them as
    :func:`ratio_means` named them), computed and restricted to ``land`` (boolean (lat, lon)),
    and its years record (:func:`rhbench.metrics.coverage.years_record`)."""
    record = data.attrs if "year" not in data.dims else years_record(data, period)
    if not isinstance(data, xr.Dataset):
        return {}, record
    if "year" in data.dims:
        means = ratio_means(data, period, record)
    else:
        means = {str(name): data[name] for name in data.data_vars if "__" in str(name)}
    return {name: mean.where(land).compute() for name, mean in means.items()}, record
