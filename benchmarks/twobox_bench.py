"""Speed of the 2-box Monte Carlo constraint: 10,000 runs x 17 models x 118 years.

Run ``python benchmarks/twobox_bench.py``; prints one JSON object. Inputs are synthetic
(seeded random NPP and turnover-time series of plausible size); only the Monte Carlo
(drawing the observed turnover times and propagating every run) is timed.
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


if __name__ == "__main__":
    print(json.dumps(bench_twobox(), indent=2))
