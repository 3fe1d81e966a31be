"""The 2-box carbon model of He et al. (Eq. 3), DGVM turnover times (Eqs. 1-2) and the
pipeline entry point :func:`twobox_results` of the observation-based constraint.

Discretisation (annual explicit forward step, pools at the end of year ``t``)::

    cVeg[t]  = cVeg[t-1]  + NPP[t]                  - cVeg[t-1] / tau_veg[t]
    cSoil[t] = cSoil[t-1] + cVeg[t-1] / tau_veg[t]  - cSoil[t-1] / tau_soil[t]

from the steady state ``cVeg[0] = NPP[0] tau_veg[0]``, ``cSoil[0] = NPP[0] tau_soil[0]``.
It is evaluated in anomaly form (pool minus its first-year value), which is algebraically the
same, keeps a constant forcing at its steady state bit for bit and gives changes since the
first year without cancellation. Carbon is conserved: the change of cVeg + cSoil over a year
is NPP[t] minus the soil outflux cSoil[t-1] / tau_soil[t].
"""

from __future__ import annotations

import logging
import operator
from functools import reduce

import numpy as np
import xarray as xr

from rhbench import constraint
from rhbench.errors import DataError, MissingVariableError, RhbenchError, ValueRangeError
from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, regional_totals, stack_masks
from rhbench.metrics.turnover import litterfall
from rhbench.results import Results, ScoreRow

logger = logging.getLogger(__name__)

REQUIRED = ("npp", "rh", "cVeg", "cSoil")
#: Vegetation classes left out of the per-class constraint (land use is fixed in TRENDY S2).
EXCLUDED_CLASSES = ("crop",)
ENSEMBLE = "ensemble_mean"
POOLS = ("dcVeg", "dcSoil", "dcTotal")
METRICS: dict[str, str] = {
    **{f"{p}_{s}": "Pg C" for s in ("unconstrained", "constrained", "constrained_sd") for p in POOLS},
    "dcTotal_dgvm": "Pg C",
    "underestimation_pct": "%",
    "emulation_r2": "1",
    "tau_clipped_pct": "%",
}


def fill_first_year(tau: np.ndarray) -> np.ndarray:
    """Copy of ``tau`` (..., year) whose first year takes the second year's value (paper: the
    1901 turnover time, undefined without dc/dt, takes the 1902 value). :func:`simulate` does
    not do this itself; callers apply it to DGVM turnover times."""
    tau = np.array(tau, dtype=float)
    if tau.shape[-1] < 2:
        raise ValueRangeError("need at least two years", found=tau.shape[-1], expected=">= 2")
    tau[..., 0] = tau[..., 1]
    return tau


def simulate(npp: np.ndarray, tau_veg: np.ndarray, tau_soil: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integrate the 2-box model (module docstring) from its first-year steady state.

    Parameters
    ----------
    npp: net primary production in Pg C yr-1, shape (..., year).
    tau_veg, tau_soil: turnover times in yr (>= 1 yr, see :data:`constraint.TAU_FLOOR`),
        shapes (..., year); leading dims broadcast against each other and ``npp``.

    Returns
    -------
    (cVeg, cSoil) in Pg C, both of the broadcast shape (..., year).
    """
    npp, tau_veg, tau_soil = (np.asarray(a, dtype=float) for a in (npp, tau_veg, tau_soil))
    lengths = {a.shape[-1] if a.ndim else 0 for a in (npp, tau_veg, tau_soil)}
    if len(lengths) != 1:
        raise DataError(
            "npp and turnover times differ in length",
            found=sorted(lengths),
            expected="one length of the year axis",
        )
    for name, values, low in (
        ("npp", npp, -np.inf),
        ("tau_veg", tau_veg, constraint.TAU_FLOOR),
        ("tau_soil", tau_soil, constraint.TAU_FLOOR),
    ):
        finite = np.isfinite(values)
        if not finite.all() or values.min() < low:
            raise ValueRangeError(
                "2-box forcing must be finite, turnover times >= 1 yr",
                variable=name,
                found=values.min() if finite.all() else f"{(~finite).sum()} missing values",
                expected=f"finite, >= {low}",
            )
    n0 = npp[..., :1]
    veg_out = n0 * (tau_veg[..., :1] / tau_veg)
    soil_out = n0 * (tau_soil[..., :1] / tau_soil)
    dveg = np.zeros(np.broadcast_shapes(npp.shape, tau_veg.shape))
    dsoil = np.zeros(np.broadcast_shapes(dveg.shape, tau_soil.shape))
    for t in range(1, dsoil.shape[-1]):
        litter = veg_out[..., t] + dveg[..., t - 1] / tau_veg[..., t]
        dveg[..., t] = dveg[..., t - 1] + npp[..., t] - litter
        rh = soil_out[..., t] + dsoil[..., t - 1] / tau_soil[..., t]
        dsoil[..., t] = dsoil[..., t - 1] + litter - rh
    cveg = n0 * tau_veg[..., :1] + dveg
    return np.broadcast_to(cveg, dsoil.shape).copy(), n0 * tau_soil[..., :1] + dsoil


def global_turnover(annual: xr.Dataset, area: xr.DataArray, regions: xr.DataArray | None = None) -> xr.Dataset:
    """Yearly global totals and turnover times of a DGVM (Eqs. 1-2, ratios of global totals).

    Parameters
    ----------
    annual: dims (year, lat, lon); ``npp``, ``rh`` and optional ``fVegLitter`` in
        g C m-2 yr-1, ``cVeg`` and ``cSoil`` (litter included) in kg C m-2. Consecutive years.
    area: cell areas in m2, dims (lat, lon). Only cells where every variable is present in
        every year count.
    regions: optional boolean masks (region, lat, lon) (see
        :func:`rhbench.metrics.totals.stack_masks`); the totals and turnover times then have
        a ``region`` dim, all computed in one pass over the data.

    Returns
    -------
    Dataset over ``year``: npp, rh, litterfall (Pg C yr-1), cVeg, cSoil (Pg C), tau_veg,
    tau_soil (yr; NaN where the flux is not positive). litterfall is fVegLitter if present,
    else NPP - dcVeg/dt (:func:`rhbench.metrics.turnover.litterfall`: centred differences,
    one-sided at the ends); the 2-box model replaces the first year anyway
    (:func:`fill_first_year`).
    """
    missing = [v for v in REQUIRED if v not in annual]
    if missing:
        raise MissingVariableError(
            "2-box turnover needs more variables",
            variable=",".join(missing),
            found=sorted(map(str, annual.data_vars)),
            expected=list(REQUIRED),
        )
    years = annual["year"].values
    if years.size < 2 or np.any(np.diff(years) != 1):
        raise ValueRangeError(
            "2-box turnover needs consecutive years",
            variable="year",
            found=f"{years.size} years",
            expected="consecutive annual steps",
        )
    fields = {v: annual[v] for v in REQUIRED}
    fields["litterfall"] = litterfall(annual)
    valid = reduce(operator.and_, (f.notnull().all("year") for f in fields.values()))
    weights = area.where(valid, 0.0)
    out = xr.Dataset(
        {
            v: regional_totals(f, weights, regions, grams_per_unit=GRAMS_PER_KILOGRAM if v[0] == "c" else 1.0)
            for v, f in fields.items()
        }
    )
    out["tau_veg"] = out["cVeg"] / out["litterfall"].where(out["litterfall"] > 0)
    out["tau_soil"] = out["cSoil"] / out["rh"].where(out["rh"] > 0)
    for v in out.data_vars:
        out[v].attrs["units"] = "yr" if v.startswith("tau") else "Pg C" if v[0] == "c" else "Pg C yr-1"
    out.attrs["litterfall"] = "fVegLitter" if "fVegLitter" in annual else "npp - dcVeg/dt"
    return out.compute()


def _r2(model: np.ndarray, reference: np.ndarray) -> float:
    """Coefficient of determination 1 - SSE/SST of ``model`` against ``reference``."""
    sst = np.sum((reference - reference.mean()) ** 2)
    return float(1.0 - np.sum((model - reference) ** 2) / sst) if sst > 0 else float("nan")


def emulation_skill(turnover: xr.Dataset) -> xr.Dataset:
    """The 2-box model driven by a DGVM's own NPP and turnover times versus the DGVM.

    Parameters
    ----------
    turnover: output of :func:`global_turnover`.

    Returns
    -------
    Dataset over ``year`` of changes since the first year (Pg C): ``dc{Veg,Soil,Total}_emulated``
    and ``_dgvm``, ``cTotal_emulated``, and the scalar ``emulation_r2`` (1) of the dcTotal series.
    Turnover times below 1 yr are clipped (logged).
    """
    tv, low_v = constraint.floor_turnover(fill_first_year(turnover["tau_veg"].values))
    ts, low_s = constraint.floor_turnover(fill_first_year(turnover["tau_soil"].values))
    if low_v or low_s:
        logger.warning("2-box emulation: DGVM turnover times below 1 yr were clipped to 1 yr")
    cveg, csoil = simulate(turnover["npp"].values, tv, ts)
    out = xr.Dataset(coords={"year": turnover["year"]})
    for pool, emu in (("dcVeg", cveg), ("dcSoil", csoil), ("dcTotal", cveg + csoil)):
        out[f"{pool}_emulated"] = ("year", emu - emu[0], {"units": "Pg C"})
    out["cTotal_emulated"] = ("year", cveg + csoil, {"units": "Pg C"})
    dgvm = turnover["cVeg"] + turnover["cSoil"]
    for pool, series in (
        ("dcVeg", turnover["cVeg"]),
        ("dcSoil", turnover["cSoil"]),
        ("dcTotal", dgvm),
    ):
        out[f"{pool}_dgvm"] = (series - series[0]).assign_attrs(units="Pg C")
    out["emulation_r2"] = _r2(out["dcTotal_emulated"].values, out["dcTotal_dgvm"].values)
    out["emulation_r2"].attrs["units"] = "1"
    return out


def _status_rows(source: str, region: str, status: str, reason: str) -> list[ScoreRow]:
    kind = "ensemble" if source == ENSEMBLE else "dgvm"
    return [
        ScoreRow(source, kind, metric, region, units, float("nan"), status, reason) for metric, units in METRICS.items()
    ]


def _stack(skills: dict[str, xr.Dataset], var: str) -> np.ndarray:
    """(model + ensemble mean, year) array of one emulation variable."""
    per_model = np.stack([skill[var].values for skill in skills.values()])
    return np.concatenate([per_model, per_model.mean(axis=0, keepdims=True)])


def _series(skills: dict[str, xr.Dataset], stats: constraint.MonteCarloStats) -> xr.Dataset:
    """Yearly unconstrained, constrained and DGVM series, dims (source, year), Pg C."""
    series = {"cTotal_unconstrained": _stack(skills, "cTotal_emulated")}
    series["cTotal_constrained"] = stats.c_total
    series["dcTotal_dgvm"] = _stack(skills, "dcTotal_dgvm")
    for pool in POOLS:
        series[f"{pool}_unconstrained"] = _stack(skills, f"{pool}_emulated")
        series[f"{pool}_constrained"] = stats.mean[pool]
        series[f"{pool}_constrained_sd"] = stats.sd[pool]
    year = next(iter(skills.values()))["year"].values
    return xr.Dataset(
        {k: (("source", "year"), v, {"units": "Pg C"}) for k, v in series.items()},
        coords={"source": [*skills, ENSEMBLE], "year": year},
    )


def _constrain_region(
    region: str, turnovers: dict[str, xr.Dataset], obs: tuple, n_draws: int, seed: int
) -> tuple[list[ScoreRow], xr.Dataset | None]:
    """Rows and yearly series of one region over the models' common years."""
    rows: list[ScoreRow] = []
    years = sorted(set.intersection(*(set(t["year"].values.tolist()) for t in turnovers.values())))
    turnovers = {name: t.sel(year=years) for name, t in turnovers.items()}
    skills = {}
    for name, turnover in turnovers.items():
        try:
            skills[name] = emulation_skill(turnover)
        except RhbenchError as err:
            rows += _status_rows(name, region, "failed", str(err))
    draws = constraint.draw_observed_taus(n_draws, tau_veg_obs=obs[0], tau_soil_obs=obs[1], seed=seed)
    try:
        if not skills:
            raise ValueRangeError("no model usable for the 2-box constraint", found=list(turnovers))
        npp, tau_veg, tau_soil = (
            np.stack([turnovers[n][v].values for n in skills]) for v in ("npp", "tau_veg", "tau_soil")
        )
        taus = fill_first_year(tau_veg), fill_first_year(tau_soil)
        stats = constraint.monte_carlo(npp, *taus, np.array(years), *draws)
    except RhbenchError as err:
        for source in [*skills, ENSEMBLE]:
            rows += _status_rows(source, region, "failed", str(err))
        return rows, None
    ds = _series(skills, stats)
    r2 = [float(skill["emulation_r2"]) for skill in skills.values()]
    r2.append(_r2(ds["dcTotal_unconstrained"].values[-1], ds["dcTotal_dgvm"].values[-1]))
    for i, source in enumerate(ds["source"].values.tolist()):
        values = {k: float(ds[k][i, -1]) for k in ds.data_vars if k in METRICS}
        new, old = values["dcTotal_constrained"], values["dcTotal_unconstrained"]
        values["underestimation_pct"] = (new - old) / new * 100.0
        values["emulation_r2"] = r2[i]
        values["tau_clipped_pct"] = float(stats.clipped[i]) * 100.0
        kind = "ensemble" if source == ENSEMBLE else "dgvm"
        rows += [ScoreRow(source, kind, m, region, u, values[m]) for m, u in METRICS.items()]
    return rows, ds.expand_dims(region=[region])


def twobox_results(
    models: dict[str, xr.Dataset],
    area: xr.DataArray,
    *,
    regions: dict[str, xr.DataArray] | None = None,
    tau_obs: dict[str, tuple[tuple[float, float], tuple[float, float]]] | None = None,
    n_draws: int = 100,
    seed: int = 0,
) -> Results:
    """The 2-box constraint of every model, globally and per vegetation class.

    Parameters
    ----------
    models: name -> annual dataset as for :func:`global_turnover` (dims year, lat, lon).
    area: cell areas in m2 (lat, lon).
    regions: class name -> boolean mask (lat, lon); classes in :data:`EXCLUDED_CLASSES` are
        ignored. The global constraint always runs.
    tau_obs: region -> ((veg mean, veg SD), (soil mean, SD)) in yr; ``"global"`` defaults to
        :data:`constraint.TAU_VEG_OBS`, :data:`constraint.TAU_SOIL_OBS`. A class without an
        entry gets skipped rows.
    n_draws: draws per observed turnover time; ``n_draws**2`` runs per model.
    seed: seed of the draws (the same draws serve every region).

    Returns
    -------
    Results whose rows are :data:`METRICS` for each model (kind "dgvm") and "ensemble_mean"
    (kind "ensemble") per region; changes are from the first to the last common year (1901 to
    2018 in the paper); ``underestimation_pct = (constrained - unconstrained) / constrained
    * 100`` of dcTotal. ``datasets["twobox"]`` holds the yearly series, dims (region, source,
    year), Pg C. A model lacking a variable gets "skipped" rows; one whose numbers cannot be
    computed gets "failed" rows with the error as reason.
    """
    tau_obs = {"global": (constraint.TAU_VEG_OBS, constraint.TAU_SOIL_OBS), **(tau_obs or {})}
    used = {name: mask for name, mask in (regions or {}).items() if name.lower() not in EXCLUDED_CLASSES}
    if len(used) < len(regions or {}):
        logger.info("2-box constraint: classes %s excluded", sorted(set(regions) - set(used)))
    masks = stack_masks({"global": area.notnull(), **used})
    names = [r for r in masks["region"].values.tolist() if r in tau_obs]
    results, frames = Results(), []
    for region in masks["region"].values.tolist():
        if region not in tau_obs:
            for source in [*models, ENSEMBLE]:
                results.rows += _status_rows(source, region, "skipped", f"no observed turnover for {region}")
    turnovers = {}
    for name, annual in models.items():
        missing = [v for v in REQUIRED if v not in annual]
        if missing:
            status, reason = "skipped", f"missing variable(s) {', '.join(missing)}"
        else:
            try:
                turnovers[name] = global_turnover(annual, area, masks.sel(region=names))
                continue
            except RhbenchError as err:
                status, reason = "failed", str(err)
        for region in names:
            results.rows += _status_rows(name, region, status, reason)
    for region in names:
        if not turnovers:
            results.rows += _status_rows(ENSEMBLE, region, "skipped", "no usable model")
            continue
        selected = {name: t.sel(region=region, drop=True) for name, t in turnovers.items()}
        rows, frame = _constrain_region(region, selected, tau_obs[region], n_draws, seed)
        results.rows += rows
        frames += [frame] if frame is not None else []
    if frames:
        results.datasets["twobox"] = xr.concat(frames, dim="region", join="outer")
    return results
