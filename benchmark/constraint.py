"""The observation-based constraint of the 2-box model: bias-corrected turnover times and the
Monte Carlo over observed turnover times (He et al., Eqs. 4-5).

Each model's yearly turnover time keeps its interannual variation and trend but is shifted so
that its mean over the reference period (1982-2018) equals an observed value::

    tau~(t) = (tau_obs - mean_ref tau_sim) + tau_sim(t)

The observed values are drawn from normal distributions, ``n`` draws for vegetation crossed
with ``n`` draws for soil, giving ``n**2`` runs per model; the mean over runs is the estimate
and the standard deviation its uncertainty.

Policy for turnover times below one year: the explicit annual step of the 2-box model removes
``c / tau`` from a pool each year, which empties the pool for ``tau = 1`` yr and drives it
negative below, so every turnover time entering the model is clipped to :data:`TAU_FLOOR`
(1 yr). A run is "clipped" when any year of its vegetation or soil turnover time was raised;
:class:`MonteCarloStats` reports the fraction of clipped runs so the scorecard shows it.

The propagation here is a specialised, vectorised form of the scheme in
:func:`rhbench.twobox.simulate` (same equations, anomaly form); it keeps running sums instead
of trajectories so that 10,000 runs x 17 models x 118 years take well under 0.1 s.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from rhbench.config import REFERENCE_PERIOD
from rhbench.errors import ValueRangeError
from rhbench.results import ScoreRow

#: Observed global vegetation turnover time (mean, SD) in yr (He et al. 2021).
TAU_VEG_OBS: tuple[float, float] = (10.3, 1.4)
#: Observed global soil turnover time (mean, SD) in yr (this paper, Eq. 2).
TAU_SOIL_OBS: tuple[float, float] = (38.3, 11.0)
#: Smallest turnover time (yr) the annual explicit step accepts; smaller values are clipped.
TAU_FLOOR = 1.0


def reference_mask(years: np.ndarray, reference: tuple[int, int] = REFERENCE_PERIOD) -> np.ndarray:
    """Boolean mask of ``years`` inside the inclusive ``reference`` period.

    Raises
    ------
    ValueRangeError
        When no year falls inside the period.
    """
    years = np.asarray(years)
    mask = (years >= reference[0]) & (years <= reference[1])
    if not mask.any():
        raise ValueRangeError(
            "no year inside the reference period of the turnover-time correction",
            found=f"{years.min()}..{years.max()}" if years.size else "no years",
            expected=f"years overlapping {reference[0]}-{reference[1]}",
        )
    return mask


def bias_correct(
    tau_sim: np.ndarray,
    tau_obs: float | np.ndarray,
    years: np.ndarray,
    reference: tuple[int, int] = REFERENCE_PERIOD,
) -> np.ndarray:
    """Shift simulated turnover times so their reference-period mean equals ``tau_obs`` (yr).

    Parameters
    ----------
    tau_sim: simulated turnover times in yr, shape (..., year).
    tau_obs: observed turnover time(s) in yr, broadcast against ``tau_sim[..., 0]``.
    years: calendar year of each step along the last axis.
    reference: inclusive period whose mean is matched.

    Returns
    -------
    ``tau_sim + (tau_obs - mean_ref(tau_sim))``, in yr, of the broadcast shape (..., year).
    """
    tau_sim = np.asarray(tau_sim, dtype=float)
    offset = np.asarray(tau_obs, dtype=float) - tau_sim[..., reference_mask(years, reference)].mean(-1)
    return tau_sim + offset[..., None]


def floor_turnover(tau: np.ndarray, floor: float = TAU_FLOOR) -> tuple[np.ndarray, np.ndarray]:
    """Clip turnover times (yr) to ``floor``; also return which series were clipped.

    Returns
    -------
    (clipped tau in yr, boolean array over the leading dims: any year was raised)
    """
    tau = np.asarray(tau, dtype=float)
    low = tau < floor
    return np.maximum(tau, floor), low.any(axis=-1)


def draw_observed_taus(
    n_draws: int,
    *,
    tau_veg_obs: tuple[float, float] = TAU_VEG_OBS,
    tau_soil_obs: tuple[float, float] = TAU_SOIL_OBS,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_draws`` observed vegetation and soil turnover times (yr) from N(mean, SD).

    Uses ``np.random.default_rng(seed)``; vegetation is drawn first, then soil.
    """
    if n_draws < 1:
        raise ValueRangeError("need at least one Monte Carlo draw", found=n_draws, expected=">= 1")
    rng = np.random.default_rng(seed)
    return rng.normal(*tau_veg_obs, n_draws), rng.normal(*tau_soil_obs, n_draws)


@dataclass(frozen=True)
class MonteCarloStats:
    """Mean and SD over runs of pool changes since the first year, in Pg C.

    Every array has shape (source, year) where the sources are the models in input order
    followed by the ensemble mean (a run of the ensemble is the mean over models of the runs
    with the same observed draws). ``clipped`` (source,) is the fraction of runs with a
    turnover time clipped to :data:`TAU_FLOOR`.
    """

    mean: dict[str, np.ndarray]
    sd: dict[str, np.ndarray]
    c_total: np.ndarray
    clipped: np.ndarray


def _mean_sd(total: np.ndarray, squares: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    mean = total / count
    return mean, np.sqrt(np.maximum(squares / count - mean**2, 0.0))


def _veg_paths(npp: np.ndarray, tau: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vegetation pool anomaly and litterfall, (model, draw, year), Pg C and Pg C yr-1."""
    n0 = npp[:, None, :1]
    steady_out = n0 * (tau[..., :1] / tau)
    anomaly = np.zeros_like(tau)
    litter = np.empty_like(tau)
    litter[..., 0] = n0[..., 0]
    for t in range(1, tau.shape[-1]):
        litter[..., t] = steady_out[..., t] + anomaly[..., t - 1] / tau[..., t]
        anomaly[..., t] = anomaly[..., t - 1] + npp[:, None, t] - litter[..., t]
    return anomaly, litter


def _moments(dveg: np.ndarray, rows: np.ndarray, squares: np.ndarray, n_soil: int) -> np.ndarray:
    """Sums over runs (i, j) of E_ij, E_ij**2, dcTotal_ij = dveg_i + E_ij and dcTotal_ij**2,
    shape (4, model), from ``rows`` = sum_j E_ij (model, veg) and ``squares`` = sum_ij E_ij**2."""
    soil = rows.sum(axis=1)
    total = n_soil * dveg.sum(axis=1) + soil
    total2 = n_soil * (dveg**2).sum(axis=1) + 2 * (dveg * rows).sum(axis=1) + squares
    return np.stack([soil, squares, total, total2])


def _soil_sums(dveg: np.ndarray, litter: np.ndarray, keep: np.ndarray, steady: np.ndarray):
    """Yearly sums over runs of dcSoil, dcSoil**2, dcTotal, dcTotal**2: (4, year, model + 1),
    the last column for the ensemble mean.

    ``dveg``, ``litter``: (year, model, veg draw); ``keep`` = 1 - 1/tau_soil and ``steady``
    = NPP[0] tau_soil[0] / tau_soil: (year, model, soil draw). The soil anomaly obeys
    ``E_ij[t] = keep_j E_ij[t-1] + litter_i - steady_j``; being linear it is propagated as
    ``E_ij = A_ij - B_j`` with ``A_ij[t] = keep_j A_ij[t-1] + (litter_i - base)`` and
    ``B_j[t] = keep_j B_j[t-1] + (steady_j - base)``, ``base`` the mean litterfall: two passes
    over the (model, veg, soil) array per year, and terms of the size of E.
    """
    n_years, n_models, n_veg = litter.shape
    n_soil = keep.shape[-1]
    base = litter.mean(axis=2, keepdims=True)
    drive_a, drive_b = (litter - base)[..., None], steady - base
    a, b = np.zeros((n_models, n_veg, n_soil)), np.zeros((n_models, n_soil))
    flat, ones_soil = a.reshape(n_models, -1), np.ones(n_soil)
    sums = np.zeros((4, n_years, n_models + 1))
    for t in range(1, n_years):
        np.multiply(a, keep[t][:, None, :], out=a)
        a += drive_a[t]
        b = keep[t] * b + drive_b[t]
        rows = a @ ones_soil - b.sum(axis=1, keepdims=True)
        cross = (a @ b[..., None]).sum(axis=(1, 2))
        squares = np.einsum("mk,mk->m", flat, flat) - 2 * cross + n_veg * (b**2).sum(axis=1)
        sums[:, t, :-1] = _moments(dveg[t], rows, squares, n_soil)
        ens = (np.ones(n_models) @ flat).reshape(n_veg, n_soil) / n_models - b.mean(axis=0)
        ens_dveg = dveg[t].mean(axis=0, keepdims=True)
        sums[:, t, -1:] = _moments(ens_dveg, ens.sum(axis=1)[None], np.vdot(ens, ens)[None], n_soil)
    return sums


def monte_carlo(
    npp: np.ndarray,
    tau_veg: np.ndarray,
    tau_soil: np.ndarray,
    years: np.ndarray,
    veg_obs: np.ndarray,
    soil_obs: np.ndarray,
    *,
    reference: tuple[int, int] = REFERENCE_PERIOD,
    floor: float = TAU_FLOOR,
) -> MonteCarloStats:
    """Run the constrained 2-box model for every model and every crossed pair of draws.

    Parameters
    ----------
    npp: NPP in Pg C yr-1, shape (model, year); the first year sets the steady state.
    tau_veg, tau_soil: simulated turnover times in yr, shape (model, year), first year filled.
    years: calendar years, shape (year,).
    veg_obs, soil_obs: observed turnover times in yr (see :func:`draw_observed_taus`);
        run (i, j) uses ``veg_obs[i]`` and ``soil_obs[j]``.

    Returns
    -------
    :class:`MonteCarloStats` with keys ``dcVeg``, ``dcSoil``, ``dcTotal`` (Pg C).
    """
    npp = np.asarray(npp, dtype=float)
    tv, veg_clip = floor_turnover(bias_correct(tau_veg[:, None, :], veg_obs, years, reference), floor)
    ts, soil_clip = floor_turnover(bias_correct(tau_soil[:, None, :], soil_obs, years, reference), floor)
    n_models, n_veg, n_years = tv.shape
    dveg, litter = _veg_paths(npp, tv)
    steady = npp[:, None, :1] * (ts[..., :1] / ts)
    sums = _soil_sums(*(np.ascontiguousarray(np.moveaxis(x, -1, 0)) for x in (dveg, litter, 1.0 - 1.0 / ts, steady)))
    runs = n_veg * ts.shape[1]
    mean, sd = {}, {}
    for k, name in ((0, "dcSoil"), (2, "dcTotal")):
        m, s = _mean_sd(sums[k], sums[k + 1], runs)
        mean[name], sd[name] = m.T, s.T
    veg_src = np.concatenate([dveg, dveg.mean(axis=0, keepdims=True)])
    mean["dcVeg"], sd["dcVeg"] = veg_src.mean(axis=1), veg_src.std(axis=1)
    if runs < 2:  # one run (n_draws = 1) has no spread: undefined, never an uncertainty of 0
        sd = {name: np.full_like(values, np.nan) for name, values in sd.items()}
    start = npp[:, 0] * (tv[..., 0].mean(axis=1) + ts[..., 0].mean(axis=1))
    start = np.append(start, start.mean())
    clipped_runs = veg_clip[:, :, None] | soil_clip[:, None, :]
    clipped = np.append(clipped_runs.mean(axis=(1, 2)), clipped_runs.any(axis=0).mean())
    return MonteCarloStats(mean, sd, start[:, None] + mean["dcTotal"], clipped)


def observed_taus(
    rows: list[ScoreRow], regions: Iterable[str]
) -> dict[str, tuple[tuple[float, float] | None, tuple[float, float]]]:
    """Observed (veg, soil) turnover times, each (mean, SD) in yr, per region, from the reference's rows.

    tau_soil comes from the reference's own ``tau_soil_global`` / ``tau_soil`` rows; its SD is
    the global relative SD (``tau_soil_global_sd``: the spread over the cSoil products, else
    that of :data:`TAU_SOIL_OBS`) applied to each region. tau_veg: globally the paper's value
    :data:`TAU_VEG_OBS`; per class only from the reference's own ``tau_veg`` rows (an
    observed litterfall or NPP product) with the paper's relative SD, else None: the class is
    constrained on tau_soil alone and its rows say so (:data:`rhbench.uptake.VEG_NOT_CONSTRAINED`).
    Empty when the reference has no finite global tau_soil.
    """
    ref = {(r.metric, r.region): r.value for r in rows if r.kind == "reference" and r.status == "ok"}
    glob = ref.get(("tau_soil_global", "global"))
    if glob is None or not np.isfinite(glob):
        return {}
    rel_sd = ref.get(("tau_soil_global_sd", "global"), TAU_SOIL_OBS[1] / TAU_SOIL_OBS[0]) / glob
    taus = {"global": (TAU_VEG_OBS, (glob, glob * rel_sd))}
    for region in regions:
        value = ref.get(("tau_soil", region))
        veg = ref.get(("tau_veg", region))
        veg_obs = (veg, veg * TAU_VEG_OBS[1] / TAU_VEG_OBS[0]) if veg is not None and np.isfinite(veg) else None
        if value is not None and np.isfinite(value):
            taus[region] = (veg_obs, (value, value * rel_sd))
    return taus


def monte_carlo_text(n_draws: int, seed: int, tau_obs: dict[str, tuple], regions: list[str]) -> str:
    """What the constrained series and rows are: ``n_draws`` x ``n_draws`` crossed draws of the observed
    turnover times (yr) of each region in ``regions`` (``tau_obs``: region -> (tau_veg (mean, SD) or None,
    tau_soil (mean, SD))), their distributions and the seed."""

    def normal(pair: tuple[float, float] | None) -> str:
        return "the model's own" if pair is None else f"N({pair[0]:.3g}, {pair[1]:.3g})"

    each = "; ".join(f"{r}: tau_veg {normal(tau_obs[r][0])}, tau_soil {normal(tau_obs[r][1])}" for r in regions)
    return (
        f"Monte Carlo: {n_draws} x {n_draws} crossed draws ({n_draws**2:,} constrained runs per model and region, "
        f"seed {seed}) of the observed turnover times in yr, {each}; *_constrained: the mean over the runs, "
        "*_constrained_sd: their SD"
    )
