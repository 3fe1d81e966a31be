"""Synthetic DGVM output: a per-cell carbon model driven by a rising NPP.

Each synthetic model has its own spatial distortion of the observed Rh and turnover
patterns, and is scaled so that its global Rh (1982-2018) and tau_soil hit its targets in
:data:`rhbench.demo.world.MODEL_TARGETS`. All values are SYNTHETIC.

The models are deliberately *not* 2-box models, so that the demo does not flatter the
2-box emulation and constraint (issue 15):

- NPP rises like the TRENDY S2 ensemble's (slowly, then faster after 1950; +20 to +30 %
  by 2018, model-specific) with 2 % interannual noise;
- soil carbon sits in a fast pool and a slow pool (a share :data:`SLOW_SHARE` of
  litterfall, turnover :data:`SLOW_FACTOR` times the fast one): the apparent global
  tau_soil = cSoil / Rh then changes with pool composition;
- soil turnover drifts (warming speeds decomposition): both pools' turnover times fall
  linearly by a model-specific 6-14 % from 1901 to 2018;
- a disturbance flux (fire) removes carbon from vegetation straight to the atmosphere,
  bypassing litter and soil, at a noisy yearly rate of about 0.2-0.5 % of cVeg.

``truth.json`` holds the global Rh and tau_soil computed from these very arrays.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import xarray as xr

from rhbench import grid
from rhbench.demo.world import BENCH_PERIOD, FIRST_YEAR, LAST_YEAR, World, model_targets
from rhbench.metrics.totals import global_total

YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)


#: Share of litterfall entering the slow soil pool, and its turnover relative to the fast pool.
SLOW_SHARE, SLOW_FACTOR = 0.3, 4.0
_RAMP = (YEARS - FIRST_YEAR) / (LAST_YEAR - FIRST_YEAR)


@dataclass(frozen=True)
class Processes:
    """A synthetic model's time behaviour: relative NPP (year,), relative soil turnover
    (year,) and the fire loss rate of cVeg (year,) in yr-1."""

    npp: np.ndarray
    soil_turnover: np.ndarray
    fire: np.ndarray


def _processes(rng: np.random.Generator) -> Processes:
    """NPP growth (paper-like trend), soil-turnover drift and fire rate of one model."""
    growth = rng.uniform(0.20, 0.30)
    npp = (1.0 + growth * _RAMP**2) * (1.0 + rng.normal(0.0, 0.02, YEARS.size))
    drift = 1.0 - rng.uniform(0.06, 0.14) * _RAMP
    fire = rng.uniform(0.002, 0.005) * np.exp(rng.normal(0.0, 0.15, YEARS.size))
    return Processes(npp, drift, fire)


def _integrate(npp: np.ndarray, tau_veg: np.ndarray, tau_soil: np.ndarray, proc: Processes) -> dict[str, np.ndarray]:
    """Per-cell model from steady state; arrays (year, cell) of fluxes per year and pools.

    ``tau_soil`` (cell,) is the fast pool's 1901 turnover time; Rh = fast / tau_fast +
    slow / tau_slow of the end-of-year pools, as the pools are reported.
    """
    n_years = npp.shape[0]
    cveg, fast, slow = (np.empty_like(npp) for _ in range(3))
    tau_fast = tau_soil[None, :] * proc.soil_turnover[:, None]
    tau_slow = tau_fast * SLOW_FACTOR
    cveg[0] = npp[0] / (1.0 / tau_veg + proc.fire[0])
    litter0 = cveg[0] / tau_veg
    fast[0], slow[0] = (1 - SLOW_SHARE) * litter0 * tau_fast[0], SLOW_SHARE * litter0 * tau_slow[0]
    for t in range(1, n_years):
        litterfall = cveg[t - 1] / tau_veg
        cveg[t] = cveg[t - 1] + npp[t] - litterfall - cveg[t - 1] * proc.fire[t]
        fast[t] = fast[t - 1] + (1 - SLOW_SHARE) * litterfall - fast[t - 1] / tau_fast[t]
        slow[t] = slow[t - 1] + SLOW_SHARE * litterfall - slow[t - 1] / tau_slow[t]
    rh = fast / tau_fast + slow / tau_slow
    return {"npp": npp, "cVeg": cveg, "cSoil": fast + slow, "fVegLitter": cveg / tau_veg, "rh": rh}


def _global_tau_soil(fields: dict[str, xr.DataArray], area: xr.DataArray) -> float:
    period = slice(*BENCH_PERIOD)
    soil = float(global_total(fields["cSoil"].sel(year=period).mean("year"), area))
    rh = float(global_total(fields["rh"].sel(year=period).mean("year"), area))
    return soil / rh


def simulate_model(world: World, name: str) -> tuple[dict[str, xr.DataArray], dict[str, float]]:
    """Annual fields of one synthetic DGVM and its truth.

    Returns (fields, truth): fields rh, npp, fVegLitter in g C m-2 yr-1 and cVeg, cSoil
    (soil + litter) in g C m-2 with dims (year, lat, lon); truth holds the global Rh
    1982-2018 (Pg C/yr) and tau_soil (yr) computed from these arrays.
    """
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    rh_target, tau_target, tau_veg_target = model_targets(name)
    land = world.land.values
    exponent = rng.uniform(0.7, 1.3)
    rh_pattern = (world.rh.values[land] ** exponent) * np.exp(rng.normal(0, 0.35, land.sum()))
    tau_pattern = world.tau_pattern.values[land] ** rng.uniform(0.6, 1.2) * np.exp(rng.normal(0, 0.25, land.sum()))
    tau_veg = tau_veg_target * np.exp(rng.normal(0, 0.2, land.sum()))
    proc = _processes(rng)
    growth = proc.npp[:, None]
    # a model's totals are over its own land (every cell it has data in), not the benchmark
    # mask: rhbench computes them on the model's grid with cell area x land fraction
    area = grid.cell_area(world.land.lat, world.land.lon).where(world.land, 0.0)
    scale = tau_target / 25.0 / 1.8  # the slow pool lengthens the apparent turnover about 1.8x
    for _ in range(5):  # fixed-point iteration: global tau_soil is nearly proportional to `scale`
        tau_soil = np.clip(tau_pattern / np.mean(tau_pattern) * 25.0 * scale, 1.5, 800.0)
        fields = _to_grid(world, _integrate(rh_pattern * growth, tau_veg, tau_soil, proc))
        factor = rh_target / _global_rh(fields, area)  # the system is linear in NPP
        fields = {name: values * factor for name, values in fields.items()}
        scale *= tau_target / _global_tau_soil(fields, area)
    truth = {"rh_global": _global_rh(fields, area), "tau_soil_global": _global_tau_soil(fields, area)}
    return fields, truth


def _global_rh(fields: dict[str, xr.DataArray], area: xr.DataArray) -> float:
    return float(global_total(fields["rh"].sel(year=slice(*BENCH_PERIOD)).mean("year"), area))


def _to_grid(world: World, series: dict[str, np.ndarray]) -> dict[str, xr.DataArray]:
    land = world.land.values
    out = {}
    for name, values in series.items():
        full = np.full((YEARS.size, *land.shape), np.nan)
        full[:, land] = values
        out[name] = xr.DataArray(
            full,
            dims=("year", "lat", "lon"),
            coords={"year": YEARS, "lat": world.land.lat, "lon": world.land.lon},
            name=name,
        )
    return out
