"""The observation-constrained carbon uptake of each DGVM: rows of the 2-box constraint.

:func:`twobox_results` emulates each DGVM with the 2-box model (:mod:`rhbench.twobox`), corrects its turnover
times towards the observed ones and runs the Monte Carlo (:mod:`rhbench.constraint`), globally and per
vegetation class, then reports one row per model, metric and region, plus the multi-model ``ensemble_mean`` and
``ensemble_sd``.

Independence: each model is constrained on its own years from 1901 on (:data:`rhbench.twobox.START_YEAR`, the
paper's steady state: earlier years are left out, its rows saying so), alone; another model's time axis never
changes its numbers. A model's turnover times are matched to the observation over the reference period
(:data:`rhbench.config.REFERENCE_PERIOD`) cut to its years (:func:`reference_window`: a CMIP6 ``historical``
run, 1850-2014, over 1982-2014, its rows saying so); a model covering less than :data:`REFERENCE_SHARE_MIN` of
the period, or with a gap in it, cannot be corrected and gets failed rows that say so. The ensemble is formed
from the models that share the most common first-to-last year span, without those the pipeline's coverage checks
fail (``left_out``); its rows name any model left out.

Per vegetation class, an observed tau_veg is used only when one is given for that class (from a litterfall or
NPP product); otherwise only tau_soil is corrected, tau_veg keeps the model's own values, and every row of that
class says so in its ``reason``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import replace

import numpy as np
import xarray as xr

from rhbench import constraint
from rhbench.constraint import monte_carlo_text
from rhbench.errors import RhbenchError, ValueRangeError
from rhbench.metrics import definitions
from rhbench.metrics.native import COVERAGE_MIN
from rhbench.metrics.totals import region_sums, stack_masks
from rhbench.results import ENSEMBLE_MEAN as ENSEMBLE
from rhbench.results import ENSEMBLE_SD, OBSERVED_CSOIL, REFERENCE_RH, Results, ScoreRow, needing
from rhbench.twobox import REQUIRED, emulation_skill, fill_first_year, from_start_year, global_turnover, r2_score, rmse

#: Smallest share of the reference period a model's years must cover for the 2-box constraint
#: (as the ``period_coverage`` threshold of :mod:`rhbench.metrics.coverage`).
REFERENCE_SHARE_MIN = 0.8

logger = logging.getLogger(__name__)

#: Vegetation classes left out of the per-class constraint (land use is fixed in TRENDY S2).
EXCLUDED_CLASSES = ("crop",)
_EXCLUDED_NOTE = (
    "2-box constraint: classes %s excluded from the per-class constraint (land use is fixed in TRENDY S2); "
    "the global constraint covers them"
)
POOLS = ("dcVeg", "dcSoil", "dcTotal")
#: The 2-box metrics (name -> units), from the one table (:mod:`rhbench.metrics.definitions`).
METRICS: dict[str, str] = {m.name: m.units for m in definitions.of_group("twobox")}
#: Metrics whose spread across the ensemble members is reported as ``ensemble_sd`` (ddof=1).
SPREAD_METRICS = tuple(m for m in METRICS if not m.endswith(("_constrained_sd", "clipped_pct")))
#: Reason on the rows of a class without an observed tau_veg.
VEG_NOT_CONSTRAINED = (
    "only tau_soil constrained in {region}: no observed litterfall or NPP product for this class, "
    "so tau_veg keeps the model's own values (never the global 10.3 yr)"
)

#: Observed (tau_veg (mean, SD) or None, tau_soil (mean, SD)) of a region, yr.
TauObs = tuple[tuple[float, float] | None, tuple[float, float]]


def _kind(source: str) -> str:
    return "ensemble" if source in (ENSEMBLE, ENSEMBLE_SD) else "dgvm"


def _status_rows(source: str, region: str, status: str, reason: str, metrics=METRICS) -> list[ScoreRow]:
    return [ScoreRow(source, _kind(source), m, region, METRICS[m], float("nan"), status, reason) for m in metrics]


def reference_window(years: np.ndarray) -> tuple[int, int]:
    """The years whose mean turnover time is matched to the observation, for a model with ``years``.

    The reference period (:data:`rhbench.config.REFERENCE_PERIOD`, 1982-2018) cut to the
    model's first and last year: a CMIP6 ``historical`` run ending in 2014 is matched over
    1982-2014. Raises :class:`ValueRangeError` when a year inside the window is missing, or
    when the window holds less than :data:`REFERENCE_SHARE_MIN` of the reference period.
    """
    first, last = constraint.REFERENCE_PERIOD
    have = set(np.asarray(years).tolist())
    window = (max(first, min(have, default=first)), min(last, max(have, default=first - 1)))
    inside = range(window[0], window[1] + 1)
    missing = sorted(set(inside) - have)
    share = len(inside) / (last - first + 1)
    if missing or share < REFERENCE_SHARE_MIN:
        raise ValueRangeError(
            "the 2-box constraint needs the model's turnover times in every year of the reference period "
            f"it covers, and at least {REFERENCE_SHARE_MIN:.0%} of {first}-{last}",
            variable="year",
            found=f"years {min(have)}-{max(have)}" + (f" (missing e.g. {missing[0]})" if missing else "")
            if have
            else "no years",
            expected=f"every year of {first}-{last}, or of at least {REFERENCE_SHARE_MIN:.0%} of it",
        )
    return window


def _window_note(window: tuple[int, int]) -> str:
    """The rows' note when the reference window is shorter than the reference period."""
    if window == constraint.REFERENCE_PERIOD:
        return ""
    first, last = constraint.REFERENCE_PERIOD
    return f"turnover times matched to the observation over {window[0]}-{window[1]} (its years of {first}-{last})"


def _monte_carlo(turnovers: list[xr.Dataset], skills: list[xr.Dataset], draws: tuple, names: list[str]) -> xr.Dataset:
    """Yearly unconstrained, constrained and DGVM series, dims (source, year), Pg C, of
    models sharing one year axis; the last source is their ensemble mean. ``draws[0]`` None:
    tau_veg is not corrected (a single draw equal to each model's own reference mean)."""
    years = turnovers[0]["year"].values
    window = reference_window(years)
    npp, tau_veg, tau_soil = (np.stack([t[v].values for t in turnovers]) for v in ("npp", "tau_veg", "tau_soil"))
    tau_veg, tau_soil = fill_first_year(tau_veg), fill_first_year(tau_soil)
    veg = draws[0]
    if veg is None:
        veg = tau_veg[:, constraint.reference_mask(years, window)].mean(-1)[:, None]
    stats = constraint.monte_carlo(npp, tau_veg, tau_soil, years, veg, draws[1], reference=window)
    stack = {v: np.stack([s[v].values for s in skills]) for v in ("cTotal_emulated", "dcTotal_dgvm")}
    stack |= {f"{p}_emulated": np.stack([s[f"{p}_emulated"].values for s in skills]) for p in POOLS}
    series = {k: np.concatenate([v, v.mean(axis=0, keepdims=True)]) for k, v in stack.items()}
    out = {"cTotal_unconstrained": series["cTotal_emulated"], "cTotal_constrained": stats.c_total}
    out["dcTotal_dgvm"] = series["dcTotal_dgvm"]
    for pool in POOLS:
        out[f"{pool}_unconstrained"] = series[f"{pool}_emulated"]
        out[f"{pool}_constrained"] = stats.mean[pool]
        out[f"{pool}_constrained_sd"] = stats.sd[pool]
    ds = xr.Dataset(
        {k: (("source", "year"), v, {"units": "Pg C"}) for k, v in out.items()},
        coords={"source": [*names, ENSEMBLE], "year": years},
    )
    ds["tau_clipped_pct"] = ("source", 100.0 * stats.clipped, {"units": "%"})
    return ds


def _values(series: xr.Dataset) -> dict[str, float]:
    """The row values of one source's series (dims year): changes first to last year."""
    values = {k: float(series[k][-1]) for k in series.data_vars if k in METRICS and "year" in series[k].dims}
    new, old = values["dcTotal_constrained"], values["dcTotal_unconstrained"]
    # a model at steady state (constant NPP and turnover) has no change to underestimate: its
    # constrained change is 0 up to rounding (1e-15 Pg C gave "100 %"), judged against its pools
    pools = abs(float(series["cTotal_constrained"][0]))
    changed = abs(new) > STEADY_RELATIVE * pools
    values["underestimation_pct"] = (new - old) / new * 100.0 if changed else float("nan")
    emulated, own = series["dcTotal_unconstrained"].values, series["dcTotal_dgvm"].values
    values["emulation_r2"] = r2_score(emulated, own)
    values["emulation_rmse"] = rmse(emulated, own)
    values["tau_clipped_pct"] = float(series["tau_clipped_pct"])
    return values


#: Below this share of a model's land with every variable in every year, its 2-box rows say so.
VALID_SHARE_NOTE = 0.999
#: Reason on the rows of a model whose own turnover times fell below the 2-box floor.
EMULATION_CLIPPED = (
    "the model's own turnover times fell below 1 yr in some year and were clipped to 1 yr in its "
    "emulation (the unconstrained and emulation rows)"
)
#: A constrained change in cVeg + cSoil at most this share of the pools' size is no change
#: (rounding of a steady state): its underestimation_pct is undefined.
STEADY_RELATIVE = 1e-9
#: Why a 2-box row has no finite value (a model at steady state: nothing changes).
UNDEFINED_REASONS = {
    "underestimation_pct": "undefined: the constrained change in cVeg + cSoil is 0",
    "emulation_r2": "undefined: the DGVM's own cVeg + cSoil does not change",
    **{f"{p}_constrained_sd": "undefined: one Monte Carlo run (n_draws = 1) has no spread" for p in POOLS},
}
#: The ensemble_mean metrics not linear in the members: of the mean series (their reason says so).
SERIES_METRICS = ("underestimation_pct", "emulation_r2", "emulation_rmse")
SERIES_NOTE = "of the ensemble-mean dcTotal series, not the mean of the models' values"


def _rows(source: str, region: str, values: dict[str, float], reason: str = "", metrics=METRICS) -> list[ScoreRow]:
    """``ok`` rows of ``values``; a value that is not finite gives a ``skipped`` row saying why."""
    out = []
    for m in metrics:
        value = float(values[m])
        if np.isfinite(value):
            out.append(ScoreRow(source, _kind(source), m, region, METRICS[m], value, "ok", reason))
            continue
        why = "; ".join(filter(None, [UNDEFINED_REASONS.get(m, "undefined"), reason]))
        out.append(ScoreRow(source, _kind(source), m, region, METRICS[m], float("nan"), "skipped", why))
    return out


def _span(series: xr.Dataset) -> tuple[int, int]:
    years = series["year"].values
    return int(years[0]), int(years[-1])


def _ensemble(
    region: str, members: dict[str, tuple[xr.Dataset, xr.Dataset]], per_model: dict[str, xr.Dataset], draws, note: str
) -> tuple[list[ScoreRow], xr.Dataset | None]:
    """Rows and series of the ensemble mean (joint Monte Carlo) and SD across models."""
    if not members:
        return _status_rows(ENSEMBLE, region, "skipped", "no model could be constrained"), None
    spans = Counter(_span(per_model[n]) for n in members)
    span = max(spans, key=lambda s: (spans[s], s[1] - s[0], -s[0]))
    names = [n for n in members if _span(per_model[n]) == span]
    left_out = sorted(set(members) - set(names))
    ds = _monte_carlo([members[n][0] for n in names], [members[n][1] for n in names], draws, names)
    ens = ds.sel(source=[ENSEMBLE])
    window = _window_note(reference_window(np.arange(span[0], span[1] + 1)))
    other = f"left out (other years): {', '.join(left_out)}" if left_out else ""
    reason = "; ".join(filter(None, [f"mean of {len(names)} models over {span[0]}-{span[1]}", window, other, note]))
    rows = _rows(ENSEMBLE, region, _values(ens.isel(source=0)), reason)
    rows = [replace(r, reason=f"{SERIES_NOTE}; {reason}") if r.metric in SERIES_METRICS else r for r in rows]
    if len(names) < 2:
        rows += _status_rows(ENSEMBLE_SD, region, "skipped", "needs at least two models", SPREAD_METRICS)
        return rows, ens
    spread = {m: float(np.std([_values(per_model[n])[m] for n in names], ddof=1)) for m in SPREAD_METRICS}
    reason = f"SD (ddof=1) across the {len(names)} models of {ENSEMBLE}"
    rows += _rows(ENSEMBLE_SD, region, spread, reason, SPREAD_METRICS)
    return rows, ens


def _constrain_region(
    region: str,
    turnovers: dict[str, xr.Dataset],
    obs: TauObs,
    n_draws: int,
    seed: int,
    clipped: list[str],
    *,
    left_out: frozenset[str] = frozenset(),
) -> tuple[list[ScoreRow], xr.Dataset | None]:
    """Rows and yearly series of one region: each model alone, then the ensemble (without ``left_out``)."""
    veg_obs, soil_obs = obs
    veg, soil = constraint.draw_observed_taus(
        n_draws, tau_veg_obs=veg_obs or constraint.TAU_VEG_OBS, tau_soil_obs=soil_obs, seed=seed
    )
    draws = (None if veg_obs is None else veg, soil)
    note = "" if veg_obs is not None else VEG_NOT_CONSTRAINED.format(region=region)
    rows: list[ScoreRow] = []
    members: dict[str, tuple[xr.Dataset, xr.Dataset]] = {}
    per_model: dict[str, xr.Dataset] = {}
    for name, turnover in turnovers.items():
        try:
            window = reference_window(turnover["year"].values)
            coverage = _coverage_note(turnover, region)
            skill = emulation_skill(turnover)
            if skill.attrs.get("tau_clipped"):
                clipped.append(f"{name} ({region})")
            per_model[name] = _monte_carlo([turnover], [skill], draws, [name]).isel(source=0)
        except RhbenchError as err:
            rows += _status_rows(name, region, "failed", str(err))
            continue
        members[name] = (turnover, skill)
        first, last = _span(per_model[name])
        own_clipped = EMULATION_CLIPPED if skill.attrs.get("tau_clipped") else ""
        start = turnover.attrs.get("start_note", "")
        reason = "; ".join(
            filter(None, [f"changes {first}-{last}", start, _window_note(window), coverage, own_clipped, note])
        )
        rows += _rows(name, region, _values(per_model[name]), reason)
    dropped = sorted(set(members) & left_out)  # their own rows fail the coverage checks: not in the mean
    why = f"left out (their rows fail the coverage checks): {', '.join(dropped)}" if dropped else ""
    kept = {n: m for n, m in members.items() if n not in left_out}
    ens_rows, ens = _ensemble(region, kept, per_model, draws, "; ".join(filter(None, [why, note])))
    frames = [per_model[n].expand_dims(source=[n]) for n in members] + ([ens] if ens is not None else [])
    if not frames:
        return rows + ens_rows, None
    series = xr.concat(frames, dim="source", join="outer").drop_vars("tau_clipped_pct")
    return rows + ens_rows, series.expand_dims(region=[region])


def _skipped(region: str, sources: list[str], why: str) -> list[ScoreRow]:
    return [row for source in sources for row in _status_rows(source, region, "skipped", f"{why} for {region}")]


def _turnovers(
    models: dict[str, xr.Dataset], area: xr.DataArray, masks: xr.DataArray
) -> tuple[dict[str, xr.Dataset], list[ScoreRow]]:
    """Yearly totals and turnover times per region of each usable model, and the skipped
    or failed rows of the others."""
    turnovers, rows = {}, []
    for name, annual in models.items():
        missing = [v for v in REQUIRED if v not in annual]
        if missing:
            status, reason = "skipped", f"missing variable(s) {', '.join(missing)}"
        else:
            try:
                annual, before = from_start_year(annual)  # the paper's 1901 start for every model
                turnovers[name] = global_turnover(annual, area, masks).assign_attrs(start_note=before)
                share = valid_share(annual, masks)
                if share is not None:
                    turnovers[name]["valid_share"] = share
                continue
            except RhbenchError as err:
                status, reason = "failed", str(err)
        for region in masks["region"].values.tolist():
            rows += _status_rows(name, region, status, reason)
    return turnovers, rows


def valid_share(annual: xr.Dataset, masks: xr.DataArray) -> xr.DataArray | None:
    """Per region, the share (1) of a model's land area that its 2-box totals sum: the cells with
    every variable in every year (:func:`rhbench.reduce.partition_totals`); None when unknown."""
    if "land_area" not in annual or "valid_land_area" not in annual:
        return None
    total = region_sums(annual["land_area"], masks)
    return region_sums(annual["valid_land_area"], masks) / total.where(total > 0)


def _coverage_note(turnover: xr.Dataset, region: str) -> str:
    """The rows' note on the land a model's 2-box totals leave out; raises ValueRangeError below
    :data:`rhbench.metrics.native.COVERAGE_MIN` (as the totals of a model covering too little land)."""
    share = float(turnover["valid_share"]) if "valid_share" in turnover else 1.0
    if not share < VALID_SHARE_NOTE:  # NaN (a region without land) included
        return ""
    what = (
        f"its 2-box totals sum {share:.1%} of its land in {region}: "
        "cells lacking npp, rh, cVeg or cSoil in some year are left out"
    )
    if share < COVERAGE_MIN:
        raise ValueRangeError(
            "too little land for the 2-box totals",
            variable="npp, rh, cVeg, cSoil",
            found=what,
            expected=f"at least {COVERAGE_MIN:.0%} of its land with every variable in every year",
        )
    return what


def _region_masks(
    area: xr.DataArray, regions: dict[str, xr.DataArray] | None, domain: xr.DataArray | None
) -> xr.DataArray:
    """The (region, lat, lon) masks the constraint runs over: ``global`` (the cells of ``domain`` with an
    area, m2) then each class of ``regions`` but :data:`EXCLUDED_CLASSES` (said at INFO)."""
    used = {name: mask for name, mask in (regions or {}).items() if name.lower() not in EXCLUDED_CLASSES}
    if len(used) < len(regions or {}):
        logger.info(_EXCLUDED_NOTE, sorted(set(regions) - set(used)))
    glob = area.notnull() if domain is None else domain.astype(bool) & area.notnull()
    return stack_masks({"global": glob, **used})


def twobox_results(
    models: dict[str, xr.Dataset],
    area: xr.DataArray,
    *,
    regions: dict[str, xr.DataArray] | None = None,
    tau_obs: dict[str, TauObs] | None = None,
    n_draws: int = 100,
    seed: int = 0,
    domain: xr.DataArray | None = None,
    left_out: frozenset[str] = frozenset(),
) -> Results:
    """The 2-box constraint of every model, globally and per vegetation class.

    Parameters
    ----------
    models: name -> annual dataset as for :func:`rhbench.twobox.global_turnover`.
    area: cell areas in m2 (lat, lon).
    regions: class name -> boolean mask (lat, lon); :data:`EXCLUDED_CLASSES` ignored; ``global`` always runs.
    tau_obs: region -> (tau_veg (mean, SD) or None, tau_soil (mean, SD)) in yr; ``"global"``
        defaults to :data:`constraint.TAU_VEG_OBS`, :data:`constraint.TAU_SOIL_OBS`. A class
        without an entry gets skipped rows; a None tau_veg constrains tau_soil only (reason).
    n_draws, seed: draws per observed turnover time (``n_draws**2`` runs per model), their seed.
    domain: boolean (lat, lon) cells of the ``global`` region, those of the observed tau.
    left_out: models constrained alone but kept out of the ensemble (their rows fail the coverage checks).

    Returns
    -------
    Results with rows :data:`METRICS` per model (kind "dgvm"), ``ensemble_mean`` and
    (:data:`SPREAD_METRICS`) ``ensemble_sd`` (kind "ensemble") per region, changes from each
    model's first to its last year (module docstring); ``datasets["twobox"]``: the yearly series,
    dims (region, source, year), Pg C, attribute ``monte_carlo`` (:func:`monte_carlo_text`).
    """
    tau_obs = {"global": (constraint.TAU_VEG_OBS, constraint.TAU_SOIL_OBS), **(tau_obs or {})}
    masks = _region_masks(area, regions, domain)
    all_regions = masks["region"].values.tolist()
    names = [r for r in all_regions if r in tau_obs]
    results, frames, clipped = Results(), [], []
    results.rows += [
        row for r in all_regions if r not in names for row in _skipped(r, [*models, ENSEMBLE], "no observed turnover")
    ]
    turnovers, rows = _turnovers(models, area, masks.sel(region=names))
    results.rows += rows
    for region in names:
        if not turnovers:
            results.rows += _status_rows(ENSEMBLE, region, "skipped", "no usable model")
            continue
        selected = {name: t.sel(region=region, drop=True) for name, t in turnovers.items()}
        rows, frame = _constrain_region(region, selected, tau_obs[region], n_draws, seed, clipped, left_out=left_out)
        results.rows += rows
        frames += [frame] if frame is not None else []
    if frames:
        series = xr.concat(frames, dim="region", join="outer")
        results.datasets["twobox"] = series.assign_attrs(monte_carlo=monte_carlo_text(n_draws, seed, tau_obs, names))
    if clipped:
        logger.warning("2-box emulation: DGVM turnover times below 1 yr clipped to 1 yr for %s", ", ".join(clipped))
    # every 2-box row rests on the observed turnover times and their domain (reference Rh and cSoil)
    results.rows = needing(results.rows, REFERENCE_RH, OBSERVED_CSOIL)
    return results
