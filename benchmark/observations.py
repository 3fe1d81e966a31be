"""Assemble the observations of a run: the reference, the observed soil carbon, vegetation classes, prior Rh.

Every product, the reference included, is read through the one loader
(:func:`rhbench.harmonize.load_source`; the reference's Rh by
:func:`rhbench.harmonize.period_means_once`, one read for its map and its native totals) and
put on the common grid by the same route. A
product whose catalog entry says ``built_by: upscaling`` and whose file is absent is
built by the Random Forest upscaling (:mod:`rhbench.upscaling`) into the run's staging
folder, then read from there like any other file. Nothing here names a product.

A source that fails to load is recorded in the run's :class:`rhbench.results.Failures`;
a run without any reference is a :class:`rhbench.errors.ConfigError`, while a reference
present but unusable fails only the rows that need it (:mod:`rhbench.failed_reference`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import xarray as xr

from rhbench import catalog, datalabel, failed_reference, fileops, grid, harmonize, vegclass
from rhbench.config import RunConfig
from rhbench.errors import ConfigError, DataError, MissingVariableError, RhbenchError
from rhbench.metrics import map_years, soil_products
from rhbench.metrics.observed import NativeReader
from rhbench.metrics.suite import Reference
from rhbench.registry import Registry
from rhbench.results import UPSCALING_DIR, Failures
from rhbench.sources import Source, Var

log = logging.getLogger(__name__)

#: The map the upscaling writes into :data:`UPSCALING_DIR`.
UPSCALED_FILE = "rh_rf.nc"
#: Kinds of observation source a ``products`` selection never leaves out: the inputs of the reference.
ALWAYS_USED_KINDS = ("sites", "predictors", "landcover", "ndvi", "landfrac")
#: The ``product`` label of the all-missing observed cSoil of a run without any cSoil product.
NO_CSOIL = "no cSoil product"
#: Suffix of the optional companion variable holding the reference's per-cell SD.
SD_SUFFIX = "_sd"


@dataclass
class Observations:
    """What every model is benchmarked against.

    Attributes
    ----------
    reference: the reference Rh, observed cSoil + cLitter, cell area and vegetation classes.
    priors: name -> Rh (lat, lon) or (year, lat, lon) of the other Rh products, g C m-2 yr-1.
    regions: vegetation class name -> boolean (lat, lon) mask (empty without land cover).
    prior_totals: name -> a prior's totals per region on its native grid
        (:meth:`rhbench.metrics.observed.ObservedTotals.prior`).
    """

    reference: Reference
    priors: dict[str, xr.DataArray]
    regions: dict[str, xr.DataArray]
    prior_totals: dict[str, xr.Dataset] = field(default_factory=dict)


def assemble(
    config: RunConfig,
    registry: Registry,
    root: Path,
    target: xr.Dataset,
    staging: Path,
    failures: Failures,
    *,
    land_mask: xr.DataArray | None = None,
) -> Observations:
    """Load (or build) every observation product of the run on ``target``'s grid, and total
    each on its own grid (:mod:`rhbench.metrics.observed`; ``land_mask``: the documented
    0-1 land mask used for products without a land fraction)."""
    reference, used, read = _reference(config, registry, root, target, staging, failures)
    regions = vegclass.class_masks(reference.vegclass) if reference.vegclass is not None else {}
    reads = {used["rh"][0].name: read} if read is not None else {}
    native = NativeReader(root, config.period, land_mask, reference.vegclass, failures, reads)
    # None: totals of the common-grid maps when a regional cSoil product is combined with the
    # global ones (its replace/blend exists only on the common grid); without cSoil the
    # reference Rh is still totalled on its own grid (cSoil and turnover NaN, skipped);
    # a failed reference has no totals (its rows fail)
    natively = not used.get("regional") and reference.failed is None
    reference.totals = native.observed(used, with_csoil=reference.has_csoil) if natively else None
    priors = _priors(config, registry, root, target, failures)
    prior_totals = {}
    for source in registry.of_kind("rh"):
        if source.name in priors:
            totals = native.totals(source, "rh")
            if totals is not None and reference.totals is not None:
                prior_totals[source.name] = reference.totals.prior(totals)
            elif totals is not None and reference.failed is not None:  # its own Rh totals still stand
                prior_totals[source.name] = totals
    return Observations(reference, priors, regions, prior_totals)


def load(
    source: Source,
    root: Path,
    target: xr.Dataset,
    failures: Failures,
    period: tuple[int, int] | None = None,
    products: tuple[str, ...] | None = None,
) -> xr.Dataset | None:
    """``source`` on ``target``'s grid (:func:`rhbench.harmonize.load_source`); None (recorded) on failure.

    With ``products`` (the run's selection, :attr:`rhbench.config.RunConfig.products`), a
    product not selected is not read and is recorded ``absent``; without a selection, a
    product whose files are not in the data root is recorded ``absent`` (not a failure). A
    product read, or tried, is recorded read with what its files stated (:meth:`Failures.record_read`).
    """
    try:
        reason = absence(source, root, products)
    except DataError as exc:  # a broken link: the user set the product up, so it fails
        failures.record(source.name, exc)
        return None
    if reason is not None:
        failures.record_absent(source.name, reason, logged=False)  # summed up by the run (Failures.say_absent)
        return None
    loaded = None
    try:
        loaded = harmonize.load_source(source, root, target, period=period)
    except RhbenchError as exc:
        failures.record(source.name, exc)
    failures.record_read(source.name, None if loaded is None else loaded.attrs.get(datalabel.STATED_ATTR, ""))
    return loaded


def absence(source: Source, root: Path, products: tuple[str, ...] | None) -> str | None:
    """Why the run does not use observation product ``source``, or None when it does.

    A selection (``products``) names the benchmarked products (Rh, cSoil, cLitter); what the
    reference is built from (site data, predictors, land cover, NDVI) is always used.
    """
    if products is not None and source.kind not in ALWAYS_USED_KINDS:
        return None if source.name in products else "not selected (config products)"
    if source.files is not None:
        return None
    paths = catalog.declared_paths(source, root)
    if paths is None:  # a broken entry is a failure, reported by the loader
        return None
    missing = [path for path in paths if not path.exists()]
    for path in missing:  # the user set the product up: a link to nothing is a failure, not an absence
        fileops.refuse_broken_link(path, DataError, source=source.name, expected="a link to the product's file")
    return f"not in the data root: {missing[0]}" if missing else None


def _vegetation(
    registry: Registry, root: Path, target: xr.Dataset, failures: Failures, products: tuple[str, ...] | None = None
) -> xr.DataArray | None:
    covers = registry.of_kind("landcover")
    if not covers:
        return None
    cover = load(covers[0], root, target, failures, products=products)
    if cover is None:
        return None
    ndvi_sources = registry.of_kind("ndvi")
    ndvi = load(ndvi_sources[0], root, target, failures, products=products) if ndvi_sources else None
    land_cover = cover["landCoverFrac"]
    if "year" in land_cover.dims:
        land_cover = land_cover.isel(year=0)
    return vegclass.vegetation_classes(land_cover.compute(), None if ndvi is None else ndvi["ndvi"].compute())


def _reference_source(config: RunConfig, registry: Registry) -> Source:
    if config.reference not in registry.sources:
        raise ConfigError(
            "the reference Rh product is not a registered plugin",
            found=config.reference,
            expected=[s.name for s in registry.of_kind("rh")],
        )
    source = registry.sources[config.reference]
    if source.kind != "rh":
        raise ConfigError(
            "the reference must be an Rh product (a source of kind rh)",
            source=source.name,
            variable="reference",
            found=f"{source.name} (kind {source.kind})",
            expected=[s.name for s in registry.of_kind("rh")],
        )
    return source


def _built_if_absent(
    source: Source,
    config: RunConfig,
    registry: Registry,
    root: Path,
    target: xr.Dataset,
    classes: xr.DataArray | None,
    staging: Path,
    failures: Failures,
) -> Source:
    """The reference as declared; when its file is absent and rhbench builds it, the product built in ``staging``."""
    if source.files is not None:
        return source
    entry = catalog.entry_for(source)
    path = catalog.resolve_file(root, entry.files["rh"], source=source.name)
    if path.exists() or entry.built_by != "upscaling":
        return source
    built = _upscaled(config, registry, root, target, classes, staging, source.name, failures)
    if built is None:
        raise ConfigError(
            "no reference Rh: the product could not be built", source=source.name, found=failures.get(source.name)
        )
    return replace(source, files={"rh": (built,)})


def _upscaled(
    config: RunConfig,
    registry: Registry,
    root: Path,
    target: xr.Dataset,
    classes: xr.DataArray | None,
    staging: Path,
    name: str,
    failures: Failures,
) -> Path | None:
    """Build the Rh product ``name`` from site data and predictors; return its file. A predictor
    stack under the data root (e.g. the real Jian et al. 2020 stack) is used with the ``landfrac``
    source's land fraction; else the climate grids and land-cover classes (the demo)."""
    from rhbench.upscaling import inputs  # scikit-learn: imported only when building
    from rhbench.upscaling.product import run_upscaling
    from rhbench.upscaling.stack import load_stack, stack_from_grids

    sites = registry.of_kind("sites")
    if not sites:
        failures.record(name, "cannot build the RF product: no site data plugin")
        return None
    srdb = catalog.resolve_file(root, catalog.entry_for(sites[0]).files["rh"], source=sites[0].name)
    out = staging / UPSCALING_DIR
    found = inputs.fetched_stack(registry, root)
    for used in [sites[0]] + ([found[0]] if found is not None else []):  # the upscaling's label judges them
        failures.record_read(used.name, "")
    if found is not None:
        log.info("building %s from %s and the predictor stack %s (%s)", name, srdb.name, found[0].name, found[1])
        fraction, note = inputs.land_fraction(registry, root)
        stack = load_stack(*found)
        grid_files = [found[1]] + ([inputs.land_fraction_file(registry, root)] if fraction is not None else [])
        versions = inputs.provenance(registry, srdb, stack, grid_files)  # REAL or SYNTHETIC: the one rule
        run_upscaling(
            srdb,
            out,
            stack=stack,
            land_fraction=fraction,
            land_fraction_note=note,
            classes=classes,
            versions=versions,
            quick=config.quick_upscaling,
            seed=config.seed,
        )
        return out / UPSCALED_FILE
    predictors = [s for s in registry.of_kind("predictors") if s not in inputs.stack_sources(registry)]
    if not predictors or classes is None:
        failures.record(name, "cannot build the RF product: needs a predictor stack, or climate grids and land cover")
        return None
    climate = load(predictors[0], root, target, failures, config.period, config.products)
    if climate is None:  # the reference's reason names the grid file and what was wrong with it
        why = failures.get(predictors[0].name) or failures.absent.get(predictors[0].name)
        failures.record(name, f"cannot build the RF product from {predictors[0].name}: {why}")
        return None
    means = {v: harmonize.period_mean(climate[v], config.period, source=predictors[0].name) for v in ("tas", "pr")}
    stack = stack_from_grids(xr.Dataset({**{v: m.compute() for v, m in means.items()}, "vegclass": classes}))
    versions = inputs.provenance(registry, srdb, stack, inputs.source_files(predictors[0], root))
    run_upscaling(srdb, out, stack=stack, versions=versions, quick=config.quick_upscaling, seed=config.seed)
    return out / UPSCALED_FILE


def _reference_header(source: Source, root: Path) -> tuple[frozenset[str] | None, float | None]:
    """The reference file's variable names (None: not netCDF, or absent) and its members' SD (:func:`rhmap.header`)."""
    from rhbench.upscaling.rhmap import header

    path = Path(source.files["rh"][0]) if source.files is not None else catalog.entry_for(source).path("rh", root)
    return header(path) if path.is_file() else (None, None)


def _reference_sd(source: Source, root: Path, target: xr.Dataset, names: frozenset[str] | None) -> xr.DataArray | None:
    """The reference's per-cell SD (variable ``<rh file name>_sd``, same units); None, unopened if not in ``names``."""
    rh = source.variables["rh"]
    companion = replace(source, variables={"rh": Var(rh.file_name + SD_SUFFIX, rh.units)})
    if names is not None and (rh.file_name + SD_SUFFIX).lower() not in {n.lower() for n in names}:
        return None  # the loader would find no such variable (rhbench.varnames.find_variable)
    try:
        return harmonize.load_source(companion, root, target)["rh"]
    except MissingVariableError:
        return None


def _reference(
    config: RunConfig, registry: Registry, root: Path, target: xr.Dataset, staging: Path, failures: Failures
) -> tuple[Reference, dict[str, list[Source]], harmonize.NativeMean | None]:
    """The reference on the common grid (with its Rh's years), the sources it was made of (``rh``, ``csoil``,
    ``regional``, ``clitter``), and its Rh as read (one read: :func:`rhbench.harmonize.period_means_once`)."""
    classes = _vegetation(registry, root, target, failures, config.products)
    source = _reference_source(config, registry)
    failed_reference.refuse_absent(source, registry, root)  # no reference at all: exit 2
    rh_sd = rh_global_sd = read = broken = None
    try:
        source = _built_if_absent(source, config, registry, root, target, classes, staging, failures)
        rh, read = harmonize.period_means_once(source, root, target, "rh", config.period)
        failures.record_read(source.name, harmonize.stated(read.opened.values()))
        names, rh_global_sd = _reference_header(source, root)
        rh_sd = _reference_sd(source, root, target, names)
        rh_sd = None if rh_sd is None else rh_sd.compute()
    except (RhbenchError, OSError, ValueError) as exc:  # present but unusable: its rows fail, the run goes on
        failures.record_read(source.name, None)
        rh, broken = failed_reference.record(exc, source, target, failures, partial=staging / UPSCALING_DIR)
    used: dict[str, list[Source]] = {"rh": [source]}
    csoil = _observed_soils(config, registry, root, target, failures, used)
    area = grid.cell_area(target.lat, target.lon)
    reference = Reference(rh, csoil, area, classes, rh_sd=rh_sd, rh_global_sd=rh_global_sd, failed=broken)
    reference.rh_years = None if read is None else map_years.file_years(read.opened["rh"], config.period)
    return reference, used, read


def _period_mean_of(
    source: Source, variable: str, root: Path, target: xr.Dataset, config: RunConfig, failures: Failures
) -> xr.DataArray | None:
    """``source``'s ``variable`` on ``target`` averaged over the run's period; None (recorded) on failure."""
    period = config.period
    loaded = load(source, root, target, failures, products=config.products)
    if loaded is None:
        return None
    try:
        return harmonize.period_mean(loaded[variable], period, source=source.name)
    except RhbenchError as exc:
        failures.record(source.name, exc)
        return None


def _observed_soils(
    config: RunConfig,
    registry: Registry,
    root: Path,
    target: xr.Dataset,
    failures: Failures,
    used: dict[str, list[Source]],
) -> xr.DataArray:
    """cSoil + cLitter of each global cSoil product on their common cells, regional products
    applied as their catalog entries declare (:mod:`rhbench.metrics.soil_products`);
    (product, lat, lon), kg C m-2. ``used`` receives the sources that went in."""
    wanted = config.csoil_products
    products, declarations = {}, {}
    for source in registry.of_kind("csoil"):
        if wanted and source.name not in wanted:
            continue
        try:
            metadata = catalog.entry_for(source).metadata
            if not wanted and metadata.get("observed_mean", True) is False:
                continue  # an alternative product (e.g. HWSD2): used only when csoil_products names it
            declarations[source.name] = soil_products.declared_domain(source.name, metadata)
        except RhbenchError as exc:
            failures.record(source.name, exc)
            continue
        mean = _period_mean_of(source, "cSoil", root, target, config, failures)
        if mean is not None:
            products[source.name] = mean
            domain, combine = declarations[source.name]
            if domain == "global" or combine is not None:
                used.setdefault("csoil" if domain == "global" else "regional", []).append(source)
    if not products:  # Rh is still benchmarked; every turnover time is skipped (NaN observed cSoil)
        log.warning("no observed cSoil product: Rh is benchmarked, turnover times are skipped")
        for key in ("csoil", "regional", "clitter"):
            used.setdefault(key, [])
        nothing = xr.full_like(target["lat"] * target["lon"], np.nan, dtype="float64")
        return nothing.expand_dims(product=[NO_CSOIL]).rename("cSoil")
    litter_map = None
    for source in registry.of_kind("clitter"):
        litter_map = _period_mean_of(source, "cLitter", root, target, config, failures)
        if litter_map is not None:
            used["clitter"] = [source]
            break
    used.setdefault("clitter", [])
    used.setdefault("regional", [])
    used.setdefault("csoil", [])
    stack = xr.concat(list(products.values()), dim="product").assign_coords(product=list(products))
    stack = soil_products.combine_products(stack.rename("cSoil"), declarations)
    if litter_map is not None:
        stack = stack + litter_map.fillna(0)
    return stack.rename("cSoil").compute()


def _priors(
    config: RunConfig, registry: Registry, root: Path, target: xr.Dataset, failures: Failures
) -> dict[str, xr.DataArray]:
    """Rh of every Rh product but the reference (benchmarked like the models)."""
    priors = {}
    for source in registry.of_kind("rh"):
        if source.name == config.reference:
            continue
        loaded = load(source, root, target, failures, products=config.products)
        if loaded is not None:
            priors[source.name] = loaded["rh"]
    return priors
