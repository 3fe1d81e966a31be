"""``run(config) -> Outcome``: discover plugins, open sources, harmonise, benchmark, constrain, report.

Each stage is a function over xarray objects; only sources read files (through
:mod:`rhbench.harmonize`) and only :mod:`rhbench.outputs` writes them. A source that
fails at any stage is recorded with its reason and the run goes on with the others.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dask
import numpy as np
import xarray as xr

from rhbench import __version__, cache, catalog, grid, harmonize, loader, outputs, reduce, vegclass
from rhbench.constraint import TAU_SOIL_OBS, TAU_VEG_OBS
from rhbench.demo import demo_is_current, generate_demo
from rhbench.errors import ConfigError, DataError, RhbenchError
from rhbench.metrics import ensemble
from rhbench.metrics.suite import Reference, evaluate
from rhbench.registry import Registry, build_registry
from rhbench.results import Results, ScoreRow
from rhbench.sources import Source
from rhbench.upscaling.product import run_upscaling
from rhbench.uptake import twobox_results

log = logging.getLogger(__name__)

#: Where the RF product is looked for under the data root before it is built.
RF_PRODUCT = "RF-Rh"
UPSCALING_DIR = "upscaling"


@dataclass
class RunConfig:
    """What a run does. ``data_root=None`` with ``demo=True`` runs on the synthetic demo."""

    data_root: Path | None = None
    out: Path | None = None
    models: tuple[str, ...] | None = None
    reference: str = RF_PRODUCT
    csoil_products: tuple[str, ...] | None = None
    resolution: float = 0.5
    period: tuple[int, int] = (1982, 2018)
    seed: int = 0
    n_draws: int = 100
    quick_upscaling: bool = False
    force: bool = False
    demo: bool = False
    demo_monthly: bool = False
    scheduler: str | None = None
    use_cache: bool = True


@dataclass
class Outcome:
    """A finished run: its results, where they were written, and its exit code."""

    results: Results
    out_dir: Path | None
    synthetic: bool
    failures: dict[str, str] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        """0 when every source succeeded, 3 when some failed (see README: exit codes)."""
        return 3 if self.failures else 0


Progress = Callable[[str], None]


def demo_root(resolution: float, monthly: bool) -> Path:
    """The cache folder of the demo ensemble for these settings."""
    suffix = "monthly" if monthly else "annual"
    return loader.cache_dir() / f"demo-{__version__}-{resolution:g}deg-{suffix}"


def prepare_demo(config: RunConfig, registry: Registry, progress: Progress | None = None) -> Path:
    """Generate the SYNTHETIC demo once (cached) and return its data root."""
    root = config.data_root or demo_root(config.resolution, config.demo_monthly)
    if not demo_is_current(root, resolution=config.resolution, monthly=config.demo_monthly, registry=registry):
        log.info("generating the synthetic demo ensemble in %s", root)
        generate_demo(
            root,
            resolution=config.resolution,
            monthly=config.demo_monthly,
            seed=config.seed,
            registry=registry,
            progress=progress,
        )
    return root


def _load(
    source: Source, root: Path, target: xr.Dataset, period: tuple[int, int] | None, failures: dict[str, str]
) -> xr.Dataset | None:
    try:
        return harmonize.load_source(source, root, target, period=period)
    except RhbenchError as exc:
        failures[source.name] = str(exc)
        log.error("source %s failed: %s", source.name, exc)
        return None


def _reduced(
    source: Source,
    root: Path,
    target: xr.Dataset,
    area: xr.DataArray,
    parts: reduce.Partition,
    period: tuple[int, int],
    failures: dict[str, str],
    cache_package: str | None = None,
) -> reduce.ModelProducts | None:
    """One DGVM read once and reduced (:mod:`rhbench.reduce`); None (recorded) on failure.

    With ``cache_package`` (the plugin's package and version), the products are taken from,
    or else written to, the cache (:mod:`rhbench.cache`).
    """
    key = None if cache_package is None else _cache_key(source, root, target, period, parts, cache_package)
    cached = None if key is None else cache.load(key)
    if cached is not None:
        return cached
    loaded = _load(source, root, target, None, failures)
    if loaded is None:
        return None
    started = time.perf_counter()
    try:
        products = reduce.reduce_model(loaded, area, parts, period)
    except RhbenchError as exc:
        failures[source.name] = str(exc)
    except (OSError, RuntimeError, ValueError) as exc:  # netCDF/HDF5 errors while reading values
        failures[source.name] = str(
            DataError(f"cannot read data values ({type(exc).__name__}: {exc})", source=source.name)
        )
    else:
        log.info("%s read and reduced in %.1f s", source.name, time.perf_counter() - started)
        if key is not None:
            try:
                cache.store(key, products)
            except (OSError, ValueError, RuntimeError) as exc:  # a cache is an optimisation only
                log.warning("cannot cache the products of %s: %s", source.name, exc)
        return products
    log.error("source %s failed: %s", source.name, failures[source.name])
    return None


def _cache_key(
    source: Source, root: Path, target: xr.Dataset, period: tuple[int, int], parts: reduce.Partition, package: str
) -> str | None:
    """The cache key of ``source``'s products, or None when its files cannot be fingerprinted."""
    try:
        entry = catalog.entry_for(source)
        files = {name: catalog.resolve_file(root, entry.files[name], source=source.name) for name in source.variables}
        return cache.product_key(source, files, package=package, target=target, period=period, parts=parts)
    except (RhbenchError, OSError, KeyError):  # reported by the uncached path
        return None


def _time_mean(data: xr.DataArray, period: tuple[int, int]) -> xr.DataArray:
    if "year" not in data.dims:
        return data
    window = harmonize.select_period(data, period)
    return (window if window.sizes["year"] else data).mean("year")


def _vegetation(registry: Registry, root: Path, target: xr.Dataset, failures: dict[str, str]) -> xr.DataArray | None:
    covers = [s for s in registry.of_kind("landcover")]
    if not covers:
        return None
    cover = _load(covers[0], root, target, None, failures)
    if cover is None:
        return None
    ndvi_sources = registry.of_kind("ndvi")
    ndvi = _load(ndvi_sources[0], root, target, None, failures) if ndvi_sources else None
    land_cover = cover["landCoverFrac"]
    if "year" in land_cover.dims:
        land_cover = land_cover.isel(year=0)
    return vegclass.vegetation_classes(land_cover.compute(), None if ndvi is None else ndvi["ndvi"].compute())


def _upscaled_reference(
    config: RunConfig,
    registry: Registry,
    root: Path,
    target: xr.Dataset,
    classes: xr.DataArray | None,
    staging: Path,
    failures: dict[str, str],
) -> Path | None:
    """Build the RF Rh product from site data and predictor grids; return its file."""
    sites = registry.of_kind("sites")
    predictors = registry.of_kind("predictors")
    if not sites or not predictors or classes is None:
        failures[RF_PRODUCT] = "cannot build the RF product: needs site data, predictor grids and land cover"
        return None
    climate = _load(predictors[0], root, target, config.period, failures)
    if climate is None:
        return None
    grids = xr.Dataset(
        {
            "tas": _time_mean(climate["tas"], config.period).compute(),
            "pr": _time_mean(climate["pr"], config.period).compute(),
            "vegclass": classes,
        },
        attrs={"synthetic": int(config.demo)},
    )
    srdb = catalog.resolve_file(root, catalog.entry_for(sites[0]).files["rh"], source=sites[0].name)
    out = staging / UPSCALING_DIR
    run_upscaling(srdb, out, grids=grids, quick=config.quick_upscaling, seed=config.seed)
    return out / "rh_rf.nc"


def _reference(
    config: RunConfig, registry: Registry, root: Path, target: xr.Dataset, staging: Path, failures: dict[str, str]
) -> Reference:
    area = grid.cell_area(target.lat, target.lon)
    classes = _vegetation(registry, root, target, failures)
    if config.reference not in registry.sources:
        raise ConfigError(
            "the reference Rh product is not a registered plugin",
            found=config.reference,
            expected=[s.name for s in registry.of_kind("rh")],
        )
    source = registry.sources[config.reference]
    relative = catalog.entry_for(source).files["rh"]
    path = catalog.resolve_file(root, relative, source=source.name)
    if not path.exists() and source.name == RF_PRODUCT:
        path = _upscaled_reference(config, registry, root, target, classes, staging, failures)
    if path is None:
        raise ConfigError(
            "no reference Rh: the RF product could not be built",
            source=config.reference,
            found=failures.get(RF_PRODUCT),
        )
    rh_file = xr.open_dataset(path, engine="netcdf4")
    rh = grid.regrid_nearest(annual_rh(source, path), target)
    rh_sd = grid.regrid_nearest(rh_file["rh_sd"], target) if "rh_sd" in rh_file else None
    soils = _observed_soils(config, registry, root, target, failures)
    return Reference(
        rh=_time_mean(rh, config.period).compute(),
        csoil_products=soils,
        area=area,
        vegclass=classes,
        rh_sd=None if rh_sd is None else rh_sd.compute(),
        name="observations",
    )


def annual_rh(source: Source, path: Path) -> xr.DataArray:
    """The reference's Rh from ``path`` (canonical units), annual means when it has time."""
    return loader.open_variable(source, "rh", path, annual=True)


def _observed_soils(
    config: RunConfig, registry: Registry, root: Path, target: xr.Dataset, failures: dict[str, str]
) -> xr.DataArray:
    """cSoil + cLitter of each cSoil product (product, lat, lon), kg C m-2."""
    wanted = config.csoil_products
    products = {}
    for source in registry.of_kind("csoil"):
        if wanted and source.name not in wanted:
            continue
        loaded = _load(source, root, target, None, failures)
        if loaded is not None:
            products[source.name] = _time_mean(loaded["cSoil"], config.period)
    if not products:
        raise ConfigError("no cSoil product could be loaded", found=sorted(failures))
    litter = [_load(s, root, target, None, failures) for s in registry.of_kind("clitter")]
    litter_map = next((_time_mean(ds["cLitter"], config.period) for ds in litter if ds is not None), None)
    stack = xr.concat(list(products.values()), dim="product").assign_coords(product=list(products))
    if litter_map is not None:
        stack = stack + litter_map.fillna(0)
    return stack.rename("cSoil").compute()


def _observed_taus(rows: list[ScoreRow], regions: dict[str, xr.DataArray]) -> dict:
    """Observed (veg, soil) turnover (mean, SD) per region from the benchmark rows.

    tau_soil comes from the reference's own rows; its SD is the global relative SD (the
    spread of the five cSoil products) applied to each region. tau_veg: globally the paper's
    value (10.3 +- 1.4 yr); per class only from the reference's own ``tau_veg`` rows (an
    observed litterfall or NPP product), else None: the class is constrained on tau_soil
    alone and its rows say so (:data:`rhbench.uptake.VEG_NOT_CONSTRAINED`).
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


def run(config: RunConfig, *, registry: Registry | None = None, progress: Progress | None = None) -> Outcome:
    """Benchmark every DGVM plugin found against the observations; write the output folder.

    The heavy step, reading and reducing each DGVM, runs on the dask scheduler active when
    ``run`` is called (e.g. a ``dask.distributed.Client``: ``rhbench run --scheduler``); the
    small observation products and metrics run on local threads, where a cluster's
    per-task round trips would cost more than the work.
    """
    started = time.time()
    heavy = dask.config.get("scheduler", None)
    registry = registry or build_registry()
    failures = {b.name: f"broken plugin: {b.reason}" for b in registry.broken}
    root = prepare_demo(config, registry, progress) if config.demo else catalog.resolve_data_root(config.data_root)
    if root is None:
        raise ConfigError("no data root: pass --data-root, set data_root in the config, or RHBENCH_DATA")
    protected = {"data root": None if config.demo else root, "cache": loader.cache_dir()}
    out_dir = outputs.claim_output_dir(config.out, force=config.force, protected=protected)
    target = grid.common_grid(config.resolution)
    with outputs.staging_dir(out_dir, force=config.force) as staging, dask.config.set(scheduler="threads"):
        reference = _reference(config, registry, root, target, staging, failures)
        regions = vegclass.class_masks(reference.vegclass) if reference.vegclass is not None else {}
        parts = reduce.partition(regions, reference.area)
        reduced = {}
        for source in registry.of_kind("dgvm"):
            if config.models and source.name not in config.models:
                continue
            if progress:
                progress(source.name)
            with dask.config.set(scheduler=heavy or "threads"):
                package = registry.packages.get(source.name, "unknown") if config.use_cache else None
                products = _reduced(source, root, target, reference.area, parts, config.period, failures, package)
            if products is not None:
                reduced[source.name] = products
        priors = {}
        for source in registry.of_kind("rh"):
            if source.name == config.reference:
                continue
            loaded = _load(source, root, target, None, failures)
            if loaded is not None:
                priors[source.name] = loaded["rh"]
        results = evaluate(reference, {name: p.period for name, p in reduced.items()}, priors, period=config.period)
        results.extend(ensemble.summarize(results, reference))
        results.extend(
            twobox_results(
                {name: p.totals for name, p in reduced.items()},
                parts.area,
                regions=parts.masks,
                tau_obs=_observed_taus(results.rows, regions),
                n_draws=config.n_draws,
                seed=config.seed,
            )
        )
        results.rows.extend(_failure_rows(failures, registry))
        results.failures.update(failures)
        outputs.write_all(
            staging,
            results,
            registry=registry,
            config=config,
            data_root=root,
            synthetic=config.demo,
            seconds=time.time() - started,
        )
    return Outcome(results, out_dir, config.demo, failures)


def _failure_rows(failures: dict[str, str], registry: Registry) -> list[ScoreRow]:
    rows = []
    for name, reason in sorted(failures.items()):
        kind = registry.sources[name].kind if name in registry.sources else "plugin"
        rows.append(ScoreRow(name, kind, "load", "global", "", float("nan"), status="failed", reason=reason))
    return rows
