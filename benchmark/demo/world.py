"""The synthetic world behind the demo ensemble: climate, vegetation and the true fields.

Everything here is SYNTHETIC: plausible geography (real continents from the bundled Natural
Earth 1:110m land polygons; tropics with high Rh, boreal with long turnover) scaled to the magnitudes of
He et al. (SCIENCE.md): observed Rh 48.8 Pg C/yr, tau_soil 38.3 yr, DGVM Rh about
58.6 Pg C/yr and tau_soil about 23 yr. Fields are deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xarray as xr

from rhbench import geography, grid
from rhbench.metrics.totals import global_total

#: Observation targets (SCIENCE.md): global Rh (Pg C/yr), tau_soil (yr), litter share of soil+litter.
OBS_RH_PG = 48.8
OBS_TAU_SOIL = 38.3
OBS_LITTER_SHARE = 0.06

#: Per-model targets: global Rh 1982-2018 (Pg C/yr), global tau_soil (yr), global tau_veg (yr).
MODEL_TARGETS: dict[str, tuple[float, float, float]] = {
    "CABLE-POP": (55.0, 18.0, 9.0),
    "CLASSIC": (62.0, 15.0, 11.0),
    "CLM5.0": (48.0, 28.0, 12.0),
    "DLEM": (58.0, 21.0, 10.0),
    "IBIS": (60.0, 20.0, 13.0),
    "ISAM": (52.0, 29.0, 9.5),
    "ISBA-CTRIP": (57.0, 36.0, 10.5),
    "JSBACH": (66.0, 13.0, 8.0),
    "JULES-ES": (61.0, 24.0, 11.5),
    "LPJ-GUESS": (47.0, 33.0, 12.5),
    "LPJwsl": (68.0, 16.0, 9.0),
    "LPX-Bern": (54.0, 26.0, 10.0),
    "ORCHIDEE": (63.0, 22.0, 11.0),
    "ORCHIDEE-CNP": (59.0, 23.0, 10.5),
    "SDGVM": (56.0, 17.0, 8.5),
    "VISIT": (64.0, 31.0, 12.0),
    "YIBs": (75.0, 19.0, 9.5),
}
#: Prior Rh products: global Rh (Pg C/yr) and spatial noise (log-SD) against the true field.
PRIOR_RH: dict[str, tuple[float, float]] = {
    "Hashimoto2015": (46.0, 0.30),
    "Warner2019": (51.0, 0.25),
    "Tang2020": (49.0, 0.15),
    "Konings2019": (56.0, 0.45),
}
#: Five cSoil products: relative bias of each against the truth (their mean is the truth).
CSOIL_PRODUCT_BIAS: dict[str, float] = {
    "WISE30sec": -0.15,
    "Bloom2016": 0.10,
    "SoilGrids": 0.25,
    "HWSD": -0.05,
    "Sanderman2017": -0.15,
}
FIRST_YEAR, LAST_YEAR = 1901, 2018
BENCH_PERIOD = (1982, 2018)

# IGBP codes used by the synthetic land cover.
ENF, EBF, DNF, DBF, MF, OPEN_SHRUB, WOODY_SAVANNA, SAVANNA, GRASS, CROP, BARREN = (1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 16)


@dataclass(frozen=True)
class World:
    """The synthetic truth on one grid (all DataArrays on lat/lon, NaN off land)."""

    area: xr.DataArray  # m2 of vegetated cells, 0 elsewhere: the paper's benchmark mask
    land: xr.DataArray  # bool
    mat: xr.DataArray  # degC
    map: xr.DataArray  # mm yr-1
    igbp: xr.DataArray  # IGBP class code (0 water)
    ndvi: xr.DataArray  # 1
    rh: xr.DataArray  # observed-truth Rh, g C m-2 yr-1
    soil_total: xr.DataArray  # observed-truth cSoil + cLitter, kg C m-2
    tau_pattern: xr.DataArray  # relative soil turnover pattern (1)


def _field(values: np.ndarray, target: xr.Dataset, name: str, units: str) -> xr.DataArray:
    return xr.DataArray(
        values, dims=("lat", "lon"), coords={"lat": target.lat, "lon": target.lon}, name=name, attrs={"units": units}
    )


def _climate(lat2: np.ndarray, lon2: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    mat = 28.0 - 0.0075 * lat2**2 + 3.0 * np.sin(np.deg2rad(lon2) * 2.0) + rng.normal(0, 0.8, lat2.shape)
    wet = 2400 * np.exp(-(((lat2 - 3) / 12.0) ** 2)) + 750 * np.exp(-(((np.abs(lat2) - 50) / 14.0) ** 2)) + 180
    desert = (np.abs(lat2) > 15) & (np.abs(lat2) < 35) & (lon2 > -20) & (lon2 < 75)
    modulation = 1.0 + 0.35 * np.sin(np.deg2rad(lon2) * 3.0)
    mapr = wet * modulation * np.where(desert, 0.12, 1.0) * np.exp(rng.normal(0, 0.1, lat2.shape))
    return mat, mapr


def _igbp(
    lat2: np.ndarray, lon2: np.ndarray, mat: np.ndarray, mapr: np.ndarray, land: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    codes = np.full(lat2.shape, GRASS)
    draw = rng.random(lat2.shape)
    temperate = (np.abs(lat2) >= 23.5) & (np.abs(lat2) < 50)
    codes = np.where(temperate & (mapr > 600), np.where(draw < 0.45, DBF, np.where(draw < 0.75, MF, CROP)), codes)
    codes = np.where(temperate & (mapr <= 600) & (draw < 0.4), CROP, codes)
    boreal = lat2 >= 50
    codes = np.where(boreal, np.where(lon2 > 100, DNF, ENF), codes)
    codes = np.where(lat2 >= 66, np.where(draw < 0.5, GRASS, OPEN_SHRUB), codes)
    tropics = np.abs(lat2) < 23.5
    codes = np.where(tropics & (mapr > 1500), EBF, codes)
    codes = np.where(tropics & (mapr <= 1500) & (mapr > 500), np.where(draw < 0.5, SAVANNA, WOODY_SAVANNA), codes)
    codes = np.where((mapr < 300) & (lat2 < 60), np.where(mapr < 150, BARREN, OPEN_SHRUB), codes)
    return np.where(land, codes, 0)


def build_world(resolution: float, seed: int = 0) -> World:
    """Synthetic climate, vegetation and observed-truth Rh and soil carbon on a global grid of
    ``resolution`` degrees (the units of each field: :class:`World`)."""
    rng = np.random.default_rng(seed)
    target = grid.common_grid(resolution)
    lat2, lon2 = np.meshgrid(target.lat.values, target.lon.values, indexing="ij")
    land = geography.land_mask(target.lat.values, target.lon.values) & (lat2 > -60)
    mat, mapr = _climate(lat2, lon2, rng)
    igbp = _igbp(lat2, lon2, mat, mapr, land, rng)
    ndvi = np.clip(0.85 * mapr / (mapr + 500.0) - 0.02 * np.maximum(-mat, 0) / 10, 0.02, 0.9)
    ndvi = np.where(igbp == BARREN, np.minimum(ndvi, 0.08), ndvi)
    rh_pattern = 2.0 ** (mat / 10.0) * mapr / (mapr + 400.0) * np.exp(rng.normal(0, 0.1, lat2.shape))
    tau_pattern = np.exp(-0.055 * mat) * (1.0 + 0.4 * (mapr < 400))
    nan_off_land = np.where(land, 1.0, np.nan)
    vegetated = land & (igbp != BARREN) & (ndvi >= 0.1)
    area = grid.cell_area(target.lat, target.lon).where(vegetated, 0.0)
    rh = _field(rh_pattern * nan_off_land, target, "rh", "g C m-2 yr-1")
    rh = rh * (OBS_RH_PG / float(global_total(rh, area)))
    tau = _field(tau_pattern * nan_off_land, target, "tau", "yr")
    tau_scale = OBS_TAU_SOIL / (float(global_total(tau * rh, area)) / float(global_total(rh, area)))
    soil_total = (tau * tau_scale * rh / 1000.0).rename("cSoil").assign_attrs(units="kg C m-2")
    return World(
        area=area,
        land=_field(land, target, "land", "1"),
        mat=_field(np.where(land, mat, np.nan), target, "tas", "degC"),
        map=_field(np.where(land, mapr, np.nan), target, "pr", "mm yr-1"),
        igbp=_field(igbp, target, "igbp", "1"),
        ndvi=_field(np.where(land, ndvi, np.nan), target, "ndvi", "1"),
        rh=rh.assign_attrs(units="g C m-2 yr-1"),
        soil_total=soil_total,
        tau_pattern=_field(tau_pattern, target, "tau_pattern", "1"),
    )


def model_targets(name: str) -> tuple[float, float, float]:
    """(Rh Pg C/yr, tau_soil yr, tau_veg yr) of a DGVM; a stable pseudo-random draw for unknown names."""
    if name in MODEL_TARGETS:
        return MODEL_TARGETS[name]
    draw = np.random.default_rng(sum(name.encode())).random(3)
    return (50.0 + 15.0 * draw[0], 15.0 + 15.0 * draw[1], 8.0 + 5.0 * draw[2])
