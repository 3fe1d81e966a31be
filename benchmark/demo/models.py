"""Synthetic DGVM output: a per-cell two-pool carbon model driven by a rising NPP.

Each synthetic model has its own spatial distortion of the observed Rh and turnover
patterns, and is scaled so that its global Rh (1982-2018) and tau_soil hit its targets in
:data:`rhbench.demo.world.MODEL_TARGETS`. All values are SYNTHETIC.
"""

from __future__ import annotations

import zlib

import numpy as np
import xarray as xr

from rhbench.demo.world import BENCH_PERIOD, FIRST_YEAR, LAST_YEAR, World, model_targets
from rhbench.metrics.totals import global_total

YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)


def _npp_growth(rng: np.random.Generator) -> np.ndarray:
    """Relative NPP per year: CO2 fertilisation since 1901 plus interannual variability."""
    ramp = (YEARS - FIRST_YEAR) / (LAST_YEAR - FIRST_YEAR)
    return (1.0 + 0.30 * ramp**2) * (1.0 + rng.normal(0.0, 0.02, YEARS.size))


def _integrate(npp: np.ndarray, tau_veg: np.ndarray, tau_soil: np.ndarray) -> dict[str, np.ndarray]:
    """Per-cell two-pool model from steady state; arrays (year, cell); fluxes per year."""
    cveg = np.empty_like(npp)
    csoil = np.empty_like(npp)
    cveg[0], csoil[0] = npp[0] * tau_veg, npp[0] * tau_soil
    for t in range(1, npp.shape[0]):
        litterfall = cveg[t - 1] / tau_veg
        cveg[t] = cveg[t - 1] + npp[t] - litterfall
        csoil[t] = csoil[t - 1] + litterfall - csoil[t - 1] / tau_soil
    return {"npp": npp, "cVeg": cveg, "cSoil": csoil, "fVegLitter": cveg / tau_veg, "rh": csoil / tau_soil}


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
    growth = _npp_growth(rng)[:, None]
    scale = tau_target / 25.0
    for _ in range(4):  # fixed-point iteration: global tau_soil is nearly proportional to `scale`
        tau_soil = np.clip(tau_pattern / np.mean(tau_pattern) * 25.0 * scale, 2.0, 800.0)
        fields = _to_grid(world, _integrate(rh_pattern * growth, tau_veg, tau_soil))
        factor = rh_target / _global_rh(fields, world.area)  # the system is linear in NPP
        fields = {name: values * factor for name, values in fields.items()}
        scale *= tau_target / _global_tau_soil(fields, world.area)
    truth = {"rh_global": _global_rh(fields, world.area), "tau_soil_global": _global_tau_soil(fields, world.area)}
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
