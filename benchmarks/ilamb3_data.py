"""SYNTHETIC 0.5 degree Rh files that both rhbench and ilamb3 read: a reference and N models.

CF conventions as ILAMB expects them: ``rh`` (time, lat, lon) float32 in g m-2 d-1 (ILAMB's
unit for Rh; in kg m-2 s-1 values are ~1e-8 and ilamb3's Spatial distribution analysis skips
a field whose spatial SD is "close to" zero by ``np.allclose``) with
``_FillValue`` over the ocean (Natural Earth land, :mod:`rhbench.geography`), a ``noleap``
time axis in days since 1982-01-01 with ``time_bnds``, and ``lat``/``lon`` with bounds;
1982-2018, annual or monthly steps. The reference sits at Konings2019's catalog path; the
models, which provide ``rh`` only, are CMOR-named files in one flat folder
(``cmip6/rh_Lmon_SYN-A_historical_r1i1p1f1_gn_198201-201812.nc``, ``Eyr`` and ``1982-2018``
when annual) that rhbench's CMIP6 source family (:mod:`rhbench.cmip6`) turns into sources
``SYN-A.r1i1p1f1``, ... with no plugin. There is no cSoil product: rhbench benchmarks Rh and
skips the turnover times with their reasons, as ilamb3's side compares Rh only. The fields
are smooth latitude patterns, scaled and perturbed per model, with a seasonal cycle in the
monthly files; they are deterministic (seeded) and reused while ``rh_files.json`` matches.
Every file carries the global attribute ``synthetic = 1``, so that rhbench labels a run on
them SYNTHETIC (the reference file decides the run's label).
"""

from __future__ import annotations

import json
from pathlib import Path

import netCDF4
import numpy as np

#: The reference Rh product whose catalog path the reference file takes.
REFERENCE = "Konings2019"
#: Folder (under the data root) of the models' CMOR-named files.
CMIP6_DIR = "cmip6"
YEARS = (1982, 2018)
RESOLUTION = 0.5
#: Days per (noleap) year: g C m-2 yr-1 -> g m-2 d-1.
DAYS_PER_YEAR = 365.0
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _grid(resolution: float) -> tuple[np.ndarray, np.ndarray]:
    half = resolution / 2
    return np.arange(-90 + half, 90, resolution), np.arange(-180 + half, 180, resolution)


def _base_field(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """Mean Rh (g C m-2 yr-1) on land, NaN on the ocean: tropical maximum, temperate shoulder."""
    from rhbench.geography import land_mask

    la, lo = np.meshgrid(lat, lon, indexing="ij")
    field = 80 + 650 * np.exp(-((la / 22) ** 2)) + 150 * np.exp(-(((la - 45) / 15) ** 2))
    field *= 1 + 0.15 * np.sin(np.radians(3 * lo))
    return np.where(land_mask(lat, lon) & (la > -60), field, np.nan)


def _time_axis(monthly: bool) -> tuple[np.ndarray, np.ndarray]:
    """Midpoints and bounds (days since 1982-01-01, noleap) of every step."""
    n_years = YEARS[1] - YEARS[0] + 1
    lengths = np.tile(_MONTH_DAYS, n_years) if monthly else np.full(n_years, 365)
    edges = np.concatenate([[0], np.cumsum(lengths)]).astype(float)
    return (edges[:-1] + edges[1:]) / 2, np.column_stack([edges[:-1], edges[1:]])


def _create(path: Path, lat: np.ndarray, lon: np.ndarray, monthly: bool, title: str) -> netCDF4.Dataset:
    path.parent.mkdir(parents=True, exist_ok=True)
    nc = netCDF4.Dataset(path, "w")
    mid, bounds = _time_axis(monthly)
    nc.createDimension("time", mid.size)
    nc.createDimension("lat", lat.size)
    nc.createDimension("lon", lon.size)
    nc.createDimension("bnds", 2)
    time = nc.createVariable("time", "f8", ("time",))
    time.setncatts({"units": "days since 1982-01-01 00:00:00", "calendar": "noleap", "axis": "T"})
    time.setncatts({"standard_name": "time", "bounds": "time_bnds"})
    time[:] = mid
    nc.createVariable("time_bnds", "f8", ("time", "bnds"))[:] = bounds
    for name, values, units, axis in (("lat", lat, "degrees_north", "Y"), ("lon", lon, "degrees_east", "X")):
        coord = nc.createVariable(name, "f8", (name,))
        coord.setncatts({"units": units, "axis": axis, "standard_name": "latitude" if axis == "Y" else "longitude"})
        coord.bounds = f"{name}_bnds"
        coord[:] = values
        half = (values[1] - values[0]) / 2
        edges = np.column_stack([values - half, values + half])
        nc.createVariable(f"{name}_bnds", "f8", (name, "bnds"))[:] = edges
    rh = nc.createVariable("rh", "f4", ("time", "lat", "lon"), fill_value=np.float32(1e20), contiguous=True)
    rh.setncatts({"units": "g m-2 d-1", "standard_name": "heterotrophic_respiration_carbon_flux"})
    rh.long_name = "heterotrophic respiration (SYNTHETIC)"
    nc.title = f"SYNTHETIC Rh for the rhbench vs ilamb3 benchmark: {title}"
    nc.synthetic = 1  # rhbench labels a run on these files SYNTHETIC (rhbench.upscaling.inputs.marked_synthetic)
    return nc


def _write_source(path: Path, base: np.ndarray, monthly: bool, seed: int, title: str, resolution: float) -> None:
    """One file: ``base`` scaled and perturbed by ``seed``, interannual and seasonal variation."""
    rng = np.random.default_rng(seed)
    lat, lon = _grid(resolution)
    field = base * rng.uniform(0.8, 1.3) * np.exp(rng.normal(0, 0.15, base.shape))
    season = _season(lat)
    trend = rng.uniform(-0.002, 0.004)
    with _create(path, lat, lon, monthly, title) as nc:
        for i, year in enumerate(range(YEARS[0], YEARS[1] + 1)):
            annual = field * (1 + trend * (year - YEARS[0]) + rng.normal(0, 0.02))
            block = annual[None] * (1 + season) if monthly else annual[None]
            steps = slice(12 * i, 12 * i + 12) if monthly else slice(i, i + 1)
            nc["rh"][steps] = (block / DAYS_PER_YEAR).astype(np.float32)


def _season(lat: np.ndarray) -> np.ndarray:
    """Relative seasonal anomaly (month, lat, 1): peaks in July north, January south."""
    peak = np.where(lat >= 0, 6.5, 0.5)
    phase = 2 * np.pi * (np.arange(12)[:, None] - peak[None, :]) / 12
    return (0.6 * np.clip(np.abs(lat) / 60, 0, 1)[None, :] * np.cos(phase))[:, :, None]


def _model_file(root: Path, index: int, monthly: bool) -> tuple[str, Path]:
    """Source name (as rhbench's CMIP6 family names it) and CMOR path of model ``index``."""
    model = f"SYN-{chr(ord('A') + index)}"
    table, period = ("Lmon", f"{YEARS[0]}01-{YEARS[1]}12") if monthly else ("Eyr", f"{YEARS[0]}-{YEARS[1]}")
    return f"{model}.r1i1p1f1", root / CMIP6_DIR / f"rh_{table}_{model}_historical_r1i1p1f1_gn_{period}.nc"


def write_files(root: Path, n_models: int, monthly: bool, resolution: float = RESOLUTION) -> dict:
    """Write (or reuse) the files under ``root``.

    Returns
    -------
    ``{"reference": path, "cmip6_dir": folder, "models": {source name: path}}``;
    ``resolution`` in degrees (0.5 for the benchmark).
    """
    from rhbench import catalog
    from rhbench.registry import build_registry

    registry = build_registry()
    ref = catalog.resolve_file(root, catalog.entry_for(registry.sources[REFERENCE]).files["rh"], source=REFERENCE)
    models = dict(_model_file(root, i, monthly) for i in range(n_models))
    files = {"reference": ref, "cmip6_dir": root / CMIP6_DIR, "models": models}
    marker = root / "rh_files.json"
    wanted = {"units": "g m-2 d-1", "monthly": monthly, "models": sorted(models), "years": list(YEARS)}
    wanted["resolution"] = resolution
    wanted["synthetic"] = 1  # files written before they carried the attribute are written again
    present = [ref, *models.values()]
    if marker.is_file() and json.loads(marker.read_text()) == wanted and all(p.is_file() for p in present):
        return files
    lat, lon = _grid(resolution)
    base = _base_field(lat, lon)
    for seed, (name, path) in enumerate({REFERENCE: ref, **models}.items()):
        _write_source(path, base, monthly, seed, name, resolution)
    marker.write_text(json.dumps(wanted))
    return files
