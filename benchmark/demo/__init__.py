"""The deterministic SYNTHETIC demo ensemble, written in TRENDY and product file conventions.

``generate_demo(root)`` writes, under a data root laid out as the catalogs expect, one
file per variable of every DGVM plugin found (TRENDY conventions: ``MODEL_S2_var.nc``,
fluxes in kg m-2 s-1, pools in kg m-2, 1901-2018, each plugin's declared quirks) and
files for every observation plugin, a synthetic SRDB-format site table, and
``truth.json`` with each source's global Rh (1982-2018) and tau_soil computed from the
generated arrays. Nothing here is an observation or a model result.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from rhbench import __version__, catalog, grid, units
from rhbench.demo import world as w
from rhbench.demo.models import YEARS, simulate_model
from rhbench.demo.sites import synthetic_srdb
from rhbench.demo.writer import SYNTHETIC_NOTE, monthly_blocks, write_field
from rhbench.fileops import write_text_atomic
from rhbench.metrics.totals import global_total
from rhbench.registry import Registry, build_registry
from rhbench.results import SYNTHETIC_MARKER
from rhbench.sources import Source

log = logging.getLogger(__name__)

TRUTH_FILE = "truth.json"
MARKER_FILE = SYNTHETIC_MARKER  # rhbench.results: a run on this root is labelled SYNTHETIC
DGVM_LITTER_SHARE = 0.08
#: Bumped whenever the generator's output changes, so cached demos are regenerated.
#: 4: HWSD in ILAMB layout (ILAMB/DATA/cSoil/HWSD); 5: Sanderman2017 as its GeoTIFF; 6: the SRDB
#: table has a Duplicate_record column (an older demo warned that the quality step cannot apply);
#: 7: the SRDB table has a ``synthetic`` column (the upscaling labels it SYNTHETIC, not UNVERIFIED).
DEMO_FORMAT = 7


def _write_dgvm(root: Path, source: Source, world: w.World, monthly: bool) -> dict[str, float]:
    fields, truth = simulate_model(world, source.name)
    total_soil = fields["cSoil"]
    if "cLitter" in source.variables and not source.litter_in_soil:
        fields["cLitter"] = total_soil * DGVM_LITTER_SHARE
        fields["cSoil"] = total_soil * (1 - DGVM_LITTER_SHARE)
    entry = catalog.entry_for(source)
    calendar = (
        "360_day"
        if "calendar_360_day" in source.quirks
        else ("noleap" if "calendar_noleap" in source.quirks else "standard")
    )
    for name, spec in source.variables.items():
        is_flux = units.CANONICAL_UNITS[name].endswith("yr-1")
        factor = units.conversion_factor("gC m-2 yr-1" if is_flux else "gC m-2", spec.units)
        data = fields[name] * factor
        step_monthly = monthly and (is_flux or "pools_yearly" not in source.quirks)
        if step_monthly:
            values = monthly_blocks(data.values, YEARS, calendar, 0.4 if is_flux else 0.0)
            data = xr.DataArray(values, dims=("time", "lat", "lon"), coords={"lat": data.lat, "lon": data.lon})
        write_field(
            entry.path(name, root),
            spec.file_name,
            data,
            spec.units,
            quirks=source.quirks,
            years=YEARS,
            monthly=step_monthly,
        )
    return truth


def _static_obs(source: Source, world: w.World, rng: np.random.Generator) -> xr.DataArray:
    """The canonical-unit field of a static observation product."""
    if source.kind == "csoil":
        bias = w.CSOIL_PRODUCT_BIAS.get(source.name, 0.0)
        noise = _product_noise(world, source.name)
        return world.soil_total * (1 - w.OBS_LITTER_SHARE) * (1 + bias + noise)
    if source.kind == "clitter":
        return world.soil_total * w.OBS_LITTER_SHARE
    raise ValueError(source.kind)


def _product_noise(world: w.World, name: str) -> xr.DataArray:
    """Spatial noise of each cSoil product, centred so the five products average to the truth."""
    names = sorted(w.CSOIL_PRODUCT_BIAS)
    draws = {n: np.random.default_rng(i + 11).normal(0, 0.15, world.land.shape) for i, n in enumerate(names)}
    mean = np.mean(list(draws.values()), axis=0)
    return xr.DataArray(draws.get(name, mean) - mean, dims=("lat", "lon"))


def _prior_rh(source: Source, world: w.World) -> tuple[xr.DataArray, float]:
    total, noise_sd = w.PRIOR_RH.get(source.name, (50.0, 0.3))
    rng = np.random.default_rng(sum(source.name.encode()))
    field = world.rh * np.exp(rng.normal(0, noise_sd, world.land.shape))
    # the truth is the product's total over all its land cells, as rhbench computes it on the
    # product's own grid (rhbench.metrics.observed), not over the paper's vegetated mask
    land_area = grid.cell_area(world.land.lat, world.land.lon).where(world.land & field.notnull(), 0.0)
    field = field * (total / float(global_total(field, land_area)))
    return field, total


def _write_obs(root: Path, source: Source, world: w.World, rng: np.random.Generator) -> dict:
    entry = catalog.entry_for(source)
    ((name, spec),) = list(source.variables.items())[:1]
    if source.kind == "sites":
        path = entry.path(name, root)
        path.parent.mkdir(parents=True, exist_ok=True)
        synthetic_srdb(world).to_csv(path, index=False)
        return {}
    if source.kind == "landfrac" or (source.kind == "predictors" and set(source.variables) - {"tas", "pr"}):
        return {}  # real-data sources (predictor stacks, land fraction): the demo writes climate grids only
    if source.kind == "predictors":
        for var, var_spec in source.variables.items():
            field = world.mat if var == "tas" else world.map
            factor_units = units.CANONICAL_UNITS[var]
            values = units.convert(field.rename(var).assign_attrs(units=factor_units), var_spec.units)
            years = np.arange(1982, 2019)
            noise = xr.DataArray(rng.normal(0, 0.02, years.size), dims="year", coords={"year": years})
            stack = values.expand_dims(year=years) + noise * abs(values)
            write_field(
                entry.path(var, root), var_spec.file_name, stack, var_spec.units, quirks=source.quirks, years=years
            )
        return {}
    if source.kind == "rh" and source.name == "RF-Rh":
        return {}  # produced by the Random Forest upscaling step, not by the demo
    if source.kind == "landfrac":
        return {}  # the demo's models count every cell with data as land (see rhbench.landfrac)
    info: dict = {}
    years = None
    if source.kind == "rh":
        field, info["rh_global"] = _prior_rh(source, world)
        if source.period:
            years = np.arange(max(source.period[0], 1982), min(source.period[1], 2018) + 1)
    elif source.kind == "landcover":
        types = np.arange(17)
        field = xr.DataArray(
            (world.igbp.values[None] == types[:, None, None]) * 1.0,
            dims=("type", "lat", "lon"),
            coords={"type": types, "lat": world.land.lat, "lon": world.land.lon},
        )
    elif source.kind == "ndvi":
        field = world.ndvi
        years = np.arange(max(source.period[0], 1982), min(source.period[1], 2018) + 1) if source.period else None
    else:
        field = _static_obs(source, world, rng)
        info["total_PgC"] = float(global_total(field, world.area, grams_per_unit=1000.0))
    canonical = units.CANONICAL_UNITS[name]
    values = field * units.conversion_factor(canonical, spec.units)
    if years is not None:
        values = values.expand_dims(year=years)
    write_field(entry.path(name, root), spec.file_name, values, spec.units, quirks=source.quirks, years=years)
    return info


def generate_demo(
    root: Path,
    *,
    resolution: float = 2.0,
    monthly: bool = False,
    seed: int = 0,
    registry: Registry | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write the SYNTHETIC demo ensemble under ``root``; return the truth mapping.

    Parameters
    ----------
    root: data root to write (created).
    resolution: grid spacing in degrees (2 for the quick demo, 0.5 for full size).
    monthly: fluxes (and pools not declared ``pools_yearly``) as monthly steps.
    registry: plugins to write files for (default: every plugin found).
    progress: called with each source's name as it is written.
    """
    registry = registry or build_registry()
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    world = w.build_world(resolution, seed)
    rng = np.random.default_rng(seed)
    truth: dict = {
        "synthetic": True,
        "note": SYNTHETIC_NOTE,
        "resolution": resolution,
        "monthly": monthly,
        "observations": {"rh_global": w.OBS_RH_PG, "tau_soil_global": w.OBS_TAU_SOIL},
        "dgvm": {},
        "obs": {},
    }
    for source in sorted(registry.sources.values(), key=lambda s: (s.kind != "dgvm", s.name)):
        if progress:
            progress(source.name)
        if source.kind == "dgvm":
            truth["dgvm"][source.name] = _write_dgvm(root, source, world, monthly)
        else:
            truth["obs"][source.name] = _write_obs(root, source, world, rng)
    _write_json(root / TRUTH_FILE, truth)
    _write_json(
        root / MARKER_FILE,
        {
            "rhbench_version": __version__,
            "demo_format": DEMO_FORMAT,
            "resolution": resolution,
            "monthly": monthly,
            "seed": seed,
            "sources": sorted(registry.sources),
        },
    )
    return truth


def _write_json(path: Path, content: dict) -> None:
    write_text_atomic(path, json.dumps(content, indent=2, sort_keys=True))


def demo_is_current(root: Path, *, resolution: float, monthly: bool, registry: Registry) -> bool:
    """True when ``root`` holds a complete demo made by this version for these plugins and settings
    (``resolution``: grid spacing, degrees; ``monthly``: monthly rather than yearly steps)."""
    marker = Path(root) / MARKER_FILE
    if not marker.is_file():
        return False
    try:
        meta = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:  # damaged: the demo is written again over it
        log.warning("demo marker %s unreadable (%s): the demo is generated again", marker, exc)
        return False
    if not isinstance(meta, dict):
        log.warning("demo marker %s is not a JSON object: the demo is generated again", marker)
        return False
    return (
        meta.get("rhbench_version") == __version__
        and meta.get("demo_format") == DEMO_FORMAT
        and meta.get("resolution") == resolution
        and meta.get("monthly") == monthly
        and meta.get("sources") == sorted(registry.sources)
    )
