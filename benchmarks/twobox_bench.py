"""Speed of the 2-box model: 10,000 runs x 17 models x 118 years.

Run ``python benchmarks/twobox_bench.py``; prints one JSON object per case. Inputs are
synthetic (seeded random NPP and turnover-time series of plausible size). Two cases:

- ``twobox_monte_carlo``: :func:`rhbench.constraint.monte_carlo` (drawing the observed
  turnover times and propagating every run to its statistics);
- ``twobox_simulate``: :func:`rhbench.twobox.simulate` returning every trajectory, for the
  crossed draws of the Monte Carlo (vegetation (model, 100, 1, year) x soil (model, 1, 100,
  year)) and, for information, for 10,000 independent draws per model (two full-size turnover
  arrays read from memory; no target).
"""

from __future__ import annotations

import json
import math
import time

import numpy as np

from rhbench import constraint

#: The Monte Carlo of a full TRENDY-sized ensemble should take less than this, in seconds.
TARGET_SECONDS = 0.1


def synthetic_forcing(
    n_models: int, n_years: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Synthetic (npp Pg C yr-1, tau_veg yr, tau_soil yr) of shape (model, year), and years."""
    rng = np.random.default_rng(seed)
    trend = np.linspace(0.0, 1.0, n_years)
    npp = rng.uniform(45, 65, (n_models, 1)) * (1 + 0.2 * trend)
    npp = npp + rng.normal(0, 1, (n_models, n_years))
    tau_veg = rng.uniform(6, 14, (n_models, 1)) - trend + rng.normal(0, 0.2, (n_models, n_years))
    tau_soil = rng.uniform(13, 36, (n_models, 1)) - 3 * trend
    tau_soil = tau_soil + rng.normal(0, 0.5, (n_models, n_years))
    return npp, tau_veg, tau_soil, np.arange(1901, 1901 + n_years)


def bench_twobox(n_models: int = 17, n_runs: int = 10_000, n_years: int = 118, repeats: int = 5) -> dict:
    """Best-of-``repeats`` wall time (s) of the Monte Carlo; ``n_runs`` must be a square."""
    n_draws = math.isqrt(n_runs)
    if n_draws**2 != n_runs:
        raise ValueError(f"n_runs must be a perfect square (draws are crossed), got {n_runs}")
    npp, tau_veg, tau_soil, years = synthetic_forcing(n_models, n_years)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        draws = constraint.draw_observed_taus(n_draws, seed=0)
        stats = constraint.monte_carlo(npp, tau_veg, tau_soil, years, *draws)
        best = min(best, time.perf_counter() - start)
    return {
        "benchmark": "twobox_monte_carlo",
        "synthetic": True,
        "n_models": n_models,
        "n_runs": n_runs,
        "n_years": n_years,
        "repeats": repeats,
        "seconds": round(best, 4),
        "target_seconds": TARGET_SECONDS,
        "met": best < TARGET_SECONDS,
        "ensemble_dcTotal_constrained_pg_c": round(float(stats.mean["dcTotal"][-1, -1]), 1),
    }


def crossed_turnover(n_models: int, n_runs: int, n_years: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """NPP (model, 1, 1, year) and bias-corrected, floored turnover times of crossed draws:
    vegetation (model, n, 1, year), soil (model, 1, n, year), n**2 = ``n_runs``."""
    n_draws = math.isqrt(n_runs)
    npp, tau_veg, tau_soil, years = synthetic_forcing(n_models, n_years)
    veg_obs, soil_obs = constraint.draw_observed_taus(n_draws, seed=0)
    tv = constraint.floor_turnover(constraint.bias_correct(tau_veg[:, None, None, :], veg_obs[:, None], years))[0]
    ts = constraint.floor_turnover(constraint.bias_correct(tau_soil[:, None, None, :], soil_obs, years))[0]
    return npp[:, None, None, :], tv, ts


def bench_simulate(
    n_models: int = 17, n_runs: int = 10_000, n_years: int = 118, repeats: int = 5, independent: bool = False
) -> dict:
    """Best-of-``repeats`` wall time (s) of :func:`rhbench.twobox.simulate` over every run."""
    from rhbench import twobox

    if independent:  # every run its own turnover series: (run, model, year) arrays in memory
        npp, tau_veg, tau_soil, _ = synthetic_forcing(n_models, n_years)
        rng = np.random.default_rng(1)
        tv = np.maximum(tau_veg + rng.normal(0, 1.4, (n_runs, n_models, 1)), constraint.TAU_FLOOR)
        ts = np.maximum(tau_soil + rng.normal(0, 5.0, (n_runs, n_models, 1)), constraint.TAU_FLOOR)
    else:
        npp, tv, ts = crossed_turnover(n_models, n_runs, n_years)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        cveg, csoil = twobox.simulate(npp, tv, ts)
        best = min(best, time.perf_counter() - start)
        total = float((cveg[..., -1] + csoil[..., -1]).mean())
        del cveg, csoil
    return {
        "benchmark": "twobox_simulate" + ("_independent" if independent else ""),
        "synthetic": True,
        "n_models": n_models,
        "n_runs": n_runs,
        "n_years": n_years,
        "repeats": repeats,
        "seconds": round(best, 4),
        "target_seconds": None if independent else TARGET_SECONDS,
        "met": None if independent else best <= TARGET_SECONDS,
        "mean_final_cTotal_pg_c": round(total, 1),
    }


if __name__ == "__main__":
    for case in (bench_twobox(), bench_simulate(), bench_simulate(independent=True, repeats=3)):
        print(json.dumps(case, indent=2))
