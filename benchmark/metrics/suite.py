"""The benchmark suite: every metric of every DGVM and Rh product against the observations.

Entry point :func:`evaluate`. Every number it reports is a metric of the one table
(:mod:`rhbench.metrics.definitions`). Conventions shared by all metrics:

- period means: each input is averaged over the years of ``period`` (1982-2018) first;
- cells: all fields are restricted to the reference land mask; Taylor statistics and the
  bias attribution use the vegetated cells (reference ``vegclass`` has a class, see
  :mod:`rhbench.vegclass`) where both maps are present, weighted by cell area;
- regions: ``global`` (the land mask), 10 degree latitude bands, climate zones and
  vegetation classes (:mod:`rhbench.metrics.totals`);
- turnover times are ratios of totals (:mod:`rhbench.metrics.turnover`); the observed
  cSoil is the mean of the cSoil products (cSoil + cLitter), also for the Rh products.

A source lacking a variable gets ``status="skipped"`` rows that say which variable (the ``needs``
of the table). Reference: :mod:`rhbench.metrics.reference`; maps: :mod:`rhbench.metrics.fields`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from functools import partial

import xarray as xr

from rhbench.errors import MissingVariableError, RhbenchError
from rhbench.failed_reference import fail_rows_needing_it
from rhbench.harmonize import period_mean
from rhbench.metrics import map_years
from rhbench.metrics.coverage import coverage_rows, gate, gate_years
from rhbench.metrics.definitions import METRICS, reported_by
from rhbench.metrics.fields import MapInputs
from rhbench.metrics.map_scores import ilamb_rows, taylor_rows
from rhbench.metrics.ratio_years import aligned_fields, over_common_years
from rhbench.metrics.reference import NO_OBSERVED_CSOIL, Reference, check_grid, reference_rows
from rhbench.metrics.rows import UNDEFINED, regional_rows, row, status_rows
from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, regional_means, regional_totals
from rhbench.metrics.turnover import (
    TauBiasAttribution,
    attribute_tau_bias,
    litterfall,
    observed_tau_soil,
    ratio_of_totals,
    tau_floor_note,
    tau_map,
)
from rhbench.results import OBSERVED_CSOIL, REFERENCE_RH, Results, ScoreRow, needing

__all__ = ["METRICS", "Reference", "evaluate"]

logger = logging.getLogger(__name__)

#: The groups of metrics :func:`evaluate` computes for a source, in row order.
GROUPS = ("rh", "tau_soil", "csoil", "cveg", "tau_veg", "attribution")
#: Attribution metric -> key of :attr:`TauBiasAttribution.summary`.
_ATTRIBUTION_KEYS = {
    "tau_bias_pct": "tau_bias_pct",
    "tau_bias_from_rh_pct": "bias_from_rh_pct",
    "tau_bias_from_csoil_pct": "bias_from_csoil_pct",
    "tau_bias_rh_dominated_area_pct": "rh_dominated_area_pct",
    "corr_rh_dev_tau_dev": "corr_rh_dev_tau_dev",
}


def evaluate(
    reference: Reference,
    dgvms: dict[str, xr.Dataset],
    rh_products: dict[str, xr.DataArray],
    *,
    period: tuple[int, int] = (1982, 2018),
    native: dict[str, xr.Dataset] | None = None,
) -> Results:
    """Benchmark DGVMs and prior Rh products against ``reference``.

    Parameters
    ----------
    reference: the observations (see :class:`Reference`).
    dgvms: name -> Dataset (year, lat, lon) with some of ``rh``, ``npp``, ``fVegLitter``
        (g C m-2 yr-1), ``cVeg``, ``cSoil`` (kg C m-2; cSoil includes litter), on the
        reference grid; may be dask-backed (only period means are computed).
    rh_products: name -> Rh (lat, lon) or (year, lat, lon), g C m-2 yr-1.
    period: first and last year (inclusive) of the means.
    native: name -> the DGVM's totals per region on its native grid with cell area x land
        fraction (:func:`rhbench.metrics.native.native_totals`); its totals, regional
        means and turnover times then come from there, not from the maps on the
        reference's land mask. Without it they are computed from the maps.

    Returns
    -------
    Results with one :class:`ScoreRow` per source x metric x region (metrics of
    :data:`METRICS`), ``datasets["maps"]`` (source, lat, lon) and ``datasets["zonal"]``
    (source, lat).
    """
    results = Results()
    results.rows.extend(_reference_own_rows(reference))
    drawn = MapInputs.of_reference(reference, period)
    attributions: dict[str, TauBiasAttribution] = {}
    sources = [(n, "dgvm", d) for n, d in dgvms.items()] + [(n, "rh", d) for n, d in rh_products.items()]
    for name, kind, data in sources:
        try:
            found, missing = _period_fields(name, data, kind, period, reference)
        except RhbenchError as err:
            logger.warning("%s failed: %s", name, err)
            results.failures[name] = str(err)
            metrics = reported_by(kind, GROUPS)
            results.rows.extend(status_rows(name, kind, metrics, _region_names(reference), "failed", str(err)))
            continue
        if kind == "rh" and "rh" in found and reference.has_csoil:  # tau_soil of an Rh product: observed cSoil
            found["csoil"] = reference.csoil
            missing.pop("csoil", None)
        elif kind == "rh" and not reference.has_csoil:
            missing["csoil"] = NO_OBSERVED_CSOIL
        aligned, record = aligned_fields(data, period, reference.land_mask)  # turnover means over common years
        redo = partial(_rows_of, name, kind, missing, reference, (native or {}).get(name), attributions)
        judged = gate_years(redo(found), kind, record, period)  # each row on the years of its own variables
        source_rows = over_common_years(judged, found, aligned, record, period, redo)  # failed rows are kept
        source_rows = map_years.stated(source_rows, record, period)  # rows over fewer years say which
        results.rows.extend(_with_coverage(source_rows, name, kind, record, found, period, reference))
        tau = drawn.add(name, kind, found, map_years.turnover_fields(found, aligned), record)  # the rows' years
        if name in attributions and tau.get("rh") is not found.get("rh"):
            attributions[name] = _attribution(tau, reference)
    results.datasets.update(drawn.datasets(attributions, reference))
    results.tau_fields = drawn.of_kind("dgvm")
    return results


#: A benchmarked source's (or the ensemble's) own values, defined without observed cSoil.
_OWN_VALUES = frozenset({"tau_soil_global", "tau_soil", "csoil_global", "tau_soil_taylor_sd"})


def needs_observed_csoil(metric: str, kind: str) -> bool:
    """True when row ``metric`` of a source of ``kind`` is defined only with an observed cSoil
    product: every cSoil / turnover row of the reference (and the SDs over its products), an Rh
    product's turnover rows (they use the observed cSoil), and every comparison of a DGVM or
    the ensemble with the observed cSoil or tau_soil (scores, Taylor statistics, attribution)."""
    spec = METRICS.get(metric)
    if spec is None:
        return False
    if kind == "reference":
        return "csoil" in spec.needs or metric in ("csoil_global_sd", "tau_soil_global_sd")
    if kind == "rh":
        return "csoil" in spec.needs
    return "csoil" in spec.needs and metric not in _OWN_VALUES


def say_no_observed_csoil(rows: list[ScoreRow], found: frozenset[str] | None = None) -> list[ScoreRow]:
    """``rows`` with every skipped row that needs the observed cSoil (:func:`needs_observed_csoil`)
    giving :data:`NO_OBSERVED_CSOIL` as its reason (for a run whose data root has no cSoil
    product: "no valid cells" or "no spatial variance" would hide the cause). With ``found``
    (the fields a DGVM has), a DGVM row needing a field of its own it lacks keeps its reason."""

    def lacks_own(r: ScoreRow) -> bool:
        return found is not None and r.kind == "dgvm" and not set(METRICS[r.metric].needs) <= found

    return [
        replace(r, reason=NO_OBSERVED_CSOIL)
        if r.status == "skipped" and needs_observed_csoil(r.metric, r.kind) and not lacks_own(r)
        else r
        for r in rows
    ]


def _reference_own_rows(reference: Reference) -> list[ScoreRow]:
    """The reference's rows: without cSoil its turnover rows say why; a failed reference's rows
    fail with its reason (:mod:`rhbench.failed_reference`)."""
    own = needing(reference_rows(reference, _observed_tau_sd(reference)), REFERENCE_RH)
    own = own if reference.has_csoil else say_no_observed_csoil(own)
    return own if reference.failed is None else fail_rows_needing_it(own, reference.failed)


def _observed_tau_sd(ref: Reference) -> float:
    """SD of the observed global tau_soil over the cSoil products, yr (NaN without cSoil on land)."""
    if not ref.has_csoil:  # no product has a value on land: every product's ratio of totals is NaN
        return float("nan")
    products = ref.csoil_products.where(ref.land_mask)
    return observed_tau_soil(products, ref.rh_land, ref.area, product_dim=ref.product_dim).global_sd


def _with_coverage(
    rows: list[ScoreRow],
    name: str,
    kind: str,
    record: Mapping,
    found: dict[str, xr.DataArray],
    period: tuple[int, int],
    ref: Reference,
) -> list[ScoreRow]:
    """``rows`` failed where the source's spatial or period coverage is too low (``record``: its years,
    :func:`rhbench.metrics.coverage.years_record`), then the coverage rows."""
    checks = coverage_rows(name, kind, xr.Dataset(attrs=record), found.get("rh"), ref.land_mask, ref.area)
    if ref.failed is not None:  # no reference land to cover: rh_coverage fails with the reference, gating nothing
        return gate(rows, [c for c in checks if c.metric != "rh_coverage"]) + checks
    if not ref.has_csoil:  # comparisons with the observed tau_soil are undefined: say why
        rows = [replace(r, reason=NO_OBSERVED_CSOIL) if r.reason == UNDEFINED else r for r in rows]
        rows = say_no_observed_csoil(rows, found=frozenset(found))
    return gate(rows, checks) + checks


def _rows_of(
    name: str,
    kind: str,
    missing: dict[str, str],
    ref: Reference,
    totals: xr.Dataset | None,
    attributions: dict[str, TauBiasAttribution],
    found: dict[str, xr.DataArray],
) -> list[ScoreRow]:
    """:func:`_source_rows` of period-mean fields ``found`` with a DGVM's bias attribution; the first
    call's (the plain means) is kept in ``attributions`` for the maps (:mod:`rhbench.metrics.ratio_years`
    calls again with means over common years)."""
    attribution = None
    if kind == "dgvm" and "rh" in found and "csoil" in found:
        attribution = _attribution(found, ref)
        attributions.setdefault(name, attribution)
    return _source_rows(name, kind, found, missing, ref, attribution, totals)


def _attribution(found: dict[str, xr.DataArray], ref: Reference) -> TauBiasAttribution:
    """The tau_soil bias of a DGVM attributed to its Rh and cSoil biases (vegetated cells)."""
    return attribute_tau_bias(found["csoil"], found["rh"], ref.csoil, ref.rh_land, ref.area, ref.vegetated_mask)


def _period_fields(
    name: str,
    data: xr.Dataset | xr.DataArray,
    kind: str,
    period: tuple[int, int],
    ref: Reference,
) -> tuple[dict[str, xr.DataArray], dict[str, str]]:
    """Period-mean (lat, lon) fields on land, computed, and reasons for the missing ones."""
    ds = data.to_dataset(name="rh") if isinstance(data, xr.DataArray) else data
    ds = check_grid(ds, ref.rh, source=name, variable=", ".join(map(str, ds.data_vars)))
    lazy: dict[str, xr.DataArray] = {}
    missing: dict[str, str] = {}
    for var, key in (("rh", "rh"), ("cSoil", "csoil"), ("cVeg", "cveg")):
        if var in ds:
            lazy[key] = ds[var]
        else:
            missing[key] = f"no {var} variable"
    if kind == "dgvm":
        try:
            lazy["litterfall"] = litterfall(ds)
        except MissingVariableError as err:
            missing["litterfall"] = str(err)
    if "year" in ds.dims:
        if ds["year"].sel(year=slice(*period)).size == 0:
            reason = f"no years in {period[0]}-{period[1]}"
            return {}, dict.fromkeys(("rh", "csoil", "cveg", "litterfall"), reason)
    means = xr.Dataset({key: period_mean(da, period, source=name) for key, da in lazy.items()}).compute()
    found = {key: means[key].where(ref.land_mask) for key in means.data_vars}
    return found, missing


def _region_names(ref: Reference) -> list[str]:
    return list(ref.region_names)


def _group_rows(
    group: str,
    source: str,
    kind: str,
    found: dict[str, xr.DataArray],
    totals: xr.Dataset,
    ref: Reference,
    attribution: TauBiasAttribution | None,
) -> list[ScoreRow]:
    """The rows of one group of metrics of a source that has every field the group needs."""
    if group == "rh":
        return [
            row(source, kind, "rh_global", "global", float(totals["rh_total"].sel(region="global"))),
            *regional_rows(source, kind, "rh_total", totals["rh_total"]),
            *regional_rows(source, kind, "rh_mean", totals["rh_mean"]),
            *taylor_rows(source, kind, "rh", ref.rh_land, found["rh"], ref),
            *ilamb_rows(source, kind, "rh", ref.rh_land, found["rh"], ref),
        ]
    if group == "tau_soil":
        tau_cells = tau_map(found["csoil"], found["rh"])
        per_cell = [
            *taylor_rows(source, kind, "tau_soil", ref.tau_soil, tau_cells, ref),
            *ilamb_rows(source, kind, "tau_soil", ref.tau_soil, tau_cells, ref),
        ]
        return [
            row(source, kind, "tau_soil_global", "global", float(totals["tau_soil"].sel(region="global"))),
            *regional_rows(source, kind, "tau_soil", totals["tau_soil"]),
            *_with_floor_note(per_cell, found, ref),
        ]
    if group == "csoil":
        total = float(totals["csoil_total"].sel(region="global"))
        return [
            *ilamb_rows(source, kind, "csoil", ref.csoil, found["csoil"], ref),
            row(source, kind, "csoil_global", "global", total),
        ]
    if group == "cveg":
        return [row(source, kind, "cveg_global", "global", float(totals["cveg_total"].sel(region="global")))]
    if group == "tau_veg":
        return [
            row(source, kind, "tau_veg_global", "global", float(totals["tau_veg"].sel(region="global"))),
            *regional_rows(source, kind, "tau_veg", totals["tau_veg"]),
        ]
    if group == "attribution" and attribution is not None:
        rows = [
            row(source, kind, metric, "global", attribution.summary[key]) for metric, key in _ATTRIBUTION_KEYS.items()
        ]
        return _with_floor_note(rows, found, ref)
    return []


def _with_floor_note(rows: list[ScoreRow], found: dict[str, xr.DataArray], ref: Reference) -> list[ScoreRow]:
    """``rows`` (statistics of per-cell tau_soil over the vegetated cells), their ``ok`` ones
    saying how many compared cells the Rh floor of :func:`tau_map` left out, if any."""
    compared = ref.vegetated_mask.astype(bool) & ref.csoil.notnull() & ref.rh_land.notnull()
    compared = compared & found["csoil"].notnull() & found["rh"].notnull()
    note = tau_floor_note(compared, ref.area, ref.rh_land, found["rh"])
    if not note:
        return rows
    return [replace(r, reason=note) if r.status == "ok" and not r.reason else r for r in rows]


def _map_totals(found: dict[str, xr.DataArray], ref: Reference) -> xr.Dataset:
    """Totals of period-mean maps on the common grid over the reference's regions (as in the paper)."""
    regions, area = ref.regions, ref.area
    out = {}
    if "rh" in found:
        out["rh_total"] = regional_totals(found["rh"], area, regions)
        out["rh_mean"] = regional_means(found["rh"], area, regions)
    if "rh" in found and "csoil" in found:
        out["tau_soil"] = ratio_of_totals(found["csoil"], found["rh"], area, regions)
    for key in ("csoil", "cveg"):
        if key in found:
            out[f"{key}_total"] = regional_totals(found[key], area, regions, grams_per_unit=GRAMS_PER_KILOGRAM)
    if "cveg" in found and "litterfall" in found:
        out["tau_veg"] = ratio_of_totals(found["cveg"], found["litterfall"], area, regions)
    return xr.Dataset(out)


def _source_rows(
    source: str,
    kind: str,
    found: dict[str, xr.DataArray],
    missing: dict[str, str],
    ref: Reference,
    attribution: TauBiasAttribution | None,
    native: xr.Dataset | None = None,
) -> list[ScoreRow]:
    """Rows of one DGVM or Rh product; a group whose inputs are missing is skipped, saying which.

    Totals, regional means and turnover times come from ``native`` (the model's own grid)
    when given, else from the maps over the reference's land mask (:func:`_map_totals`).
    """
    rows: list[ScoreRow] = []
    totals = native if native is not None else _map_totals(found, ref)
    for group in GROUPS:
        metrics = reported_by(kind, (group,))
        if not metrics:
            continue
        needs = dict.fromkeys(need for metric in metrics for need in metric.needs)
        reasons = [missing[need] for need in needs if need in missing]
        if reasons:
            skipped = status_rows(source, kind, metrics, _region_names(ref), "skipped", "; ".join(reasons))
            # an Rh product's cSoil is the observed one: its absence is the observations', not the product's
            observed = kind == "rh" and "csoil" in missing and "csoil" in needs
            rows += needing(skipped, REFERENCE_RH, OBSERVED_CSOIL) if observed else skipped
        else:
            built = _group_rows(group, source, kind, found, totals, ref, attribution)
            rows += [needing([r], *_observations(r.metric, kind, native is not None))[0] for r in built]
    return rows


#: Metrics a benchmarked source computes from its totals: from its own files alone when the
#: totals are its native-grid ones (:func:`_source_rows`); every other row of a source is
#: computed on the reference's land mask or against the observations.
FROM_TOTALS = frozenset(
    {"rh_global", "rh_total", "rh_mean", "tau_soil_global", "tau_soil", "csoil_global", "cveg_global"}
    | {"tau_veg_global", "tau_veg"}
)


def _observations(metric: str, kind: str, own_totals: bool) -> tuple[str, ...]:
    """The observations row ``metric`` of a source of ``kind`` is computed from
    (:attr:`rhbench.results.ScoreRow.needs`); ``own_totals``: its totals are its native-grid ones."""
    if needs_observed_csoil(metric, kind):
        return REFERENCE_RH, OBSERVED_CSOIL
    return () if own_totals and metric in FROM_TOTALS else (REFERENCE_RH,)
