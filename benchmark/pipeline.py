"""``run(config) -> Outcome``: the run's story, stage by stage.

Discover plugins -> assemble the observations (:mod:`rhbench.observations`) -> read and
reduce each DGVM once (:mod:`rhbench.reduce`, cached by :mod:`rhbench.cache`) ->
evaluate (:mod:`rhbench.metrics.suite`) -> constrain (:mod:`rhbench.twobox`) -> write
(:mod:`rhbench.outputs`). A source that fails at any stage is recorded in one
:class:`rhbench.results.Failures` with its reason and the run goes on with the others.

The pipeline is handed a data root; it does not know where the data came from (the
command line prepares the SYNTHETIC demo's data root, see :mod:`rhbench.commands.run`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import dask
import dask.threaded
import xarray as xr

from rhbench import (
    cache,
    cmip6,
    constraint,
    damaged,
    datalabel,
    failed_reference,
    grid,
    harmonize,
    landfrac,
    observations,
    outputs,
    plausibility,
    provenance,
    reduce,
    runscope,
    selection,
)
from rhbench.config import RunConfig
from rhbench.errors import ConfigError, DataError, RhbenchError
from rhbench.fileops import cache_path
from rhbench.metrics import coverage, ensemble
from rhbench.metrics.definitions import METRIC_TABLE
from rhbench.metrics.reference import NO_OBSERVED_CSOIL_TWOBOX
from rhbench.metrics.suite import evaluate, say_no_observed_csoil
from rhbench.registry import Registry, build_registry
from rhbench.results import OBSERVED_CSOIL, REFERENCE_RH, Failures, Results, ScoreRow, is_synthetic
from rhbench.sources import Source
from rhbench.uptake import twobox_results

__all__ = ["Outcome", "Progress", "RunConfig", "run"]

log = logging.getLogger(__name__)
#: dask's local threaded scheduler, given as its function: given as the name "threads", dask
#: imports dask.distributed (~0.65 s) at the first compute to look for a running client.
LOCAL_THREADS = dask.threaded.get

Progress = Callable[[str], None]


@dataclass
class Outcome:
    """A finished run: its results, where they were written, and its exit code."""

    results: Results
    out_dir: Path | None
    synthetic: bool
    failures: dict[str, str] = field(default_factory=dict)
    #: What data the run was made of (:func:`rhbench.datalabel.describe`): label, reason, versions.
    data: dict = field(default_factory=dict)

    @property
    def failed_rows(self) -> list:
        """The scorecard rows with status ``failed`` (a source that failed, or a value refused)."""
        return [row for row in self.results.rows if row.status == "failed"]

    @property
    def exit_code(self) -> int:
        """0 when every selected source and row succeeded, 3 when any failed (see README: exit codes)."""
        return 3 if self.failures or self.failed_rows else 0


def run(config: RunConfig, *, registry: Registry | None = None, progress: Progress | None = None) -> Outcome:
    """Benchmark every selected DGVM plugin against the observations; write the output folder.

    The heavy step, reading and reducing each DGVM, runs on the dask scheduler active when
    ``run`` is called (e.g. a ``dask.distributed.Client``: ``rhbench run --scheduler``); the
    small observation products and metrics run on local threads, where a cluster's
    per-task round trips would cost more than the work. Each catalog path is resolved and each
    netCDF file is opened once in the run where it can be (:mod:`rhbench.runscope`).
    """
    with runscope.scope():
        return _run(config, registry, progress)


def _run(config: RunConfig, registry: Registry | None, progress: Progress | None) -> Outcome:
    started = time.time()
    heavy = dask.config.get("scheduler", None)
    registry = registry or build_registry()
    discovered = cmip6.register(registry, config.cmip6)
    config = selection.cmip6_models(config, discovered)
    selection.check_models(config, registry, discovered)
    selection.check_products(config, registry)
    failures = Failures({b.name: f"broken plugin: {b.reason}" for b in registry.broken})
    root = _data_root(config)
    synthetic = config.demo or is_synthetic(root)
    out_dir = _claim_output(config, root, discovered)
    files = provenance.prefetch_input_checksums(registry, root)  # resolved once; hashed on another core meanwhile
    target = grid.common_grid(config.resolution)
    with outputs.staging_dir(out_dir, force=config.force) as staging, dask.config.set(scheduler=LOCAL_THREADS):
        mask = _land_mask(registry, root, synthetic, failures=failures)
        obs = observations.assemble(config, registry, root, target, staging, failures, land_mask=mask)
        failures.say_absent(sorted(failures.absent))  # the products not used, one line per reason
        # the 2-box global domain: the cells of the observed tau_soil (both cSoil and Rh present)
        domain = obs.reference.csoil.notnull() & obs.reference.rh_land.notnull()
        parts = reduce.partition(obs.regions, obs.reference.area, domain=domain)
        # without an observed cSoil there is no 2-box constraint: its yearly totals are not computed
        native = Native(obs.reference.vegclass, mask, domain, twobox=obs.reference.has_csoil)
        with dask.config.set(scheduler=heavy or LOCAL_THREADS):
            models = _reduce_models(config, registry, root, target, native, parts, failures, progress)
        periods = {n: p.period for n, p in models.items()}
        own_totals = {n: p.regions for n, p in models.items() if p.regions is not None} | obs.prior_totals
        results = evaluate(obs.reference, periods, obs.priors, period=config.period, native=own_totals)
        implausible = _fail_implausible(results, failures, {n: p.regions for n, p in models.items()})
        summary = ensemble.summarize(results, obs.reference)
        results.tau_fields.clear()  # read by the ensemble maps alone: the models' fields are freed
        if not obs.reference.has_csoil:  # every ensemble comparison with the observed cSoil: say why
            summary.rows = say_no_observed_csoil(summary.rows)
        results.extend(summary)
        usable = {name: p.totals for name, p in models.items() if name not in implausible}
        twobox = _constrain(config, usable, parts, obs, results, periods)
        twobox.rows = coverage.gate_sources(twobox.rows, results.rows, periods, config.period)  # on its years
        results.extend(twobox)
        _record_failures(results, failures, registry, obs.reference.failed)
        written = outputs.write_all(
            staging,
            results,
            registry=registry,
            config=config,
            data_root=root,
            synthetic=synthetic,
            seconds=time.time() - started,
            files=files,
            read=failures.read,
        )
    return Outcome(results, out_dir, written.synthetic, failures.reasons, written.provenance["data"])


def _claim_output(config: RunConfig, root: Path, discovered: list[Source]) -> Path:
    """The run's output folder, claimed (:func:`rhbench.outputs.claim_output_dir`); never one
    holding or inside the data root, the cache, the ILAMB root or any CMIP6 input (--force
    must never delete a user's files)."""
    protected = {
        **outputs.protected_folders(None if config.demo else root),
        "cache": cache_path(),
        "ILAMB root": config.ilamb_root,
        **cmip6.protected_inputs(config.cmip6, discovered),
    }
    return outputs.claim_output_dir(config.out, force=config.force, protected=protected)


def _constrain(
    config: RunConfig, totals: dict[str, xr.Dataset], parts: reduce.Partition, obs, results: Results, periods: dict
) -> Results:
    """The 2-box constraint of each model (:func:`rhbench.uptake.twobox_results`); a model whose 2-box rows
    the coverage checks fail (:func:`rhbench.metrics.coverage.gate_sources`: too little land, too few years)
    is kept out of the ensemble, as from the suite's.

    Without an observed cSoil product there is no observed tau_soil to constrain with: the
    2-box rows of every model are skipped, saying why.
    """
    if not obs.reference.has_csoil:
        metrics = [m for m in METRIC_TABLE if m.group == "twobox"]
        needs, why = frozenset({REFERENCE_RH, OBSERVED_CSOIL}), NO_OBSERVED_CSOIL_TWOBOX
        return Results(
            rows=[
                ScoreRow(name, "dgvm", m.name, "global", m.units, float("nan"), "skipped", why, needs)
                for name in totals
                for m in metrics
            ]
        )
    probe = [ScoreRow(n, "dgvm", "dcTotal_constrained", "global", "Pg C", 0.0, "ok", "") for n in totals]
    gated = coverage.gate_sources(probe, results.rows, periods, config.period)
    return twobox_results(
        totals,
        parts.area,
        regions=parts.masks,
        domain=parts.domain,
        left_out=frozenset(r.source for r in gated if r.status == "failed"),
        tau_obs=constraint.observed_taus(results.rows, obs.regions),
        n_draws=config.n_draws,
        seed=config.seed,
    )


def _data_root(config: RunConfig) -> Path:
    if config.data_root is None:
        raise ConfigError("no data root: pass --data-root, set data_root in the config, or RHBENCH_DATA")
    return Path(config.data_root)


@dataclass(frozen=True)
class Native:
    """What reading a model on its native grid needs besides its files (:func:`rhbench.reduce.reduce_native`).

    ``vegclass``: the reference's class map on the common grid (or None); ``land_mask``:
    the documented 0-1 land mask (:func:`rhbench.harmonize.land_mask`), or None;
    ``domain``: the 2-box domain on the common grid (cells of the observed tau_soil);
    ``twobox``: the run has a 2-box constraint (an observed cSoil), so the models' 2-box
    totals are needed (:attr:`rhbench.reduce.ModelProducts.totals`).
    """

    vegclass: xr.DataArray | None
    land_mask: xr.DataArray | None
    domain: xr.DataArray | None = None
    twobox: bool = True


def _reduce_models(
    config: RunConfig,
    registry: Registry,
    root: Path,
    target: xr.Dataset,
    native: Native,
    parts: reduce.Partition,
    failures: Failures,
    progress: Progress | None,
) -> dict[str, reduce.ModelProducts]:
    """Each selected DGVM read once and reduced; failures are recorded, not raised."""
    reduced, absent, read = {}, [], 0
    for source in registry.of_kind("dgvm"):
        if config.models and source.name not in config.models:
            continue
        if progress:
            progress(source.name)
        builtin = registry.packages.get(source.name, "rhbench").split(" ")[0] == "rhbench"  # not a user's plugin
        why = selection.model_absence(config, source, root, builtin=builtin)
        if why is not None:
            failures.record_absent(source.name, why, logged=False)
            absent.append(source.name)
            continue
        read += 1
        failures.record_read(source.name, None)  # its files' own label: opened by the data label, cache or not
        package = registry.packages.get(source.name, "unknown") if config.use_cache else None
        products = _reduced(source, root, target, native, parts, config.period, failures, package)
        if products is None:
            continue
        zero = plausibility.zero_fields_reason(products.period.data_vars)
        if zero is not None:
            failures.record(source.name, zero)
            continue
        reduced[source.name] = products
    _say_absent_models(absent, read)
    return reduced


def _say_absent_models(absent: list[str], read: int) -> None:
    """One line for the DGVM plugins left out for want of files (no ``models`` selection);
    ``read``: how many models the run read (or tried to)."""
    if not absent:
        return
    attempted = read > 0
    log.log(
        logging.INFO if attempted else logging.WARNING,
        "%d DGVM plugin(s) have no file in the data root, not benchmarked (absent): %s%s; name a model in "
        "--models (models = [...]) to require its files",
        len(absent),
        ", ".join(absent),
        "" if attempted else " -- no model at all: only the observations are benchmarked",
    )


def _land_mask(
    registry: Registry, root: Path, synthetic: bool, failures: Failures | None = None
) -> xr.DataArray | None:
    """The documented 0-1 land mask (:func:`rhbench.harmonize.land_mask`, recorded read in ``failures``);
    its absence on real data is warned about (totals of sources without their own land fraction run
    high at coasts)."""
    mask = harmonize.land_mask(registry.of_kind("landfrac"), root)
    if mask is not None and failures is not None:
        failures.record_read(mask.attrs["rhbench_source"], mask.attrs.get(datalabel.STATED_ATTR, ""))
    if mask is None and not synthetic:
        log.warning(
            "no land fraction in the data root (rhbench fetch land-fraction): sources without their own "
            "(sftlf, landArea) count every cell with data as all land, so their totals run high at coasts"
        )
    return mask


def _files_of(source: Source, root: Path) -> str | None:
    """The files a source's variables are read from, for an error that cannot name one.

    Called while recording a failure: it never raises (None when the files cannot be
    listed), so the source's own failure is recorded and the run goes on.
    """
    try:
        files = [str(paths[0]) for paths in harmonize.source_files(source, root).values() if paths]
    except Exception as exc:  # (a broken catalog entry or plugin must not sink the run)
        log.debug("cannot list the files of %s: %s: %s", source.name, type(exc).__name__, exc)
        return None
    if not files:
        return None
    return files[0] if len(files) == 1 else f"{files[0]} and {len(files) - 1} other file(s)"


def _damaged_values(source: Source, root: Path, exc: Exception) -> RhbenchError:
    """The error of a chunked (dask) read that failed on damaged values, naming the damaged file and
    variable when reading each file again finds it (:func:`rhbench.damaged.named`), else the
    source's files. Never raises."""
    error = DataError(f"{damaged.UNREADABLE} ({type(exc).__name__}: {exc})", source=source.name)
    try:
        error = damaged.named(error, source, harmonize.source_files(source, root))
    except Exception as err:  # (a broken catalog entry or plugin must not sink the run)
        log.debug("cannot look for the damaged file of %s: %s: %s", source.name, type(err).__name__, err)
    return error.add_context(file=_files_of(source, root))


def _reduced(
    source: Source,
    root: Path,
    target: xr.Dataset,
    native: Native,
    parts: reduce.Partition,
    period: tuple[int, int],
    failures: Failures,
    cache_package: str | None = None,
) -> reduce.ModelProducts | None:
    """One DGVM read once on its native grid and reduced (:func:`rhbench.reduce.reduce_native`).

    None (recorded) on failure.

    With ``cache_package`` (the plugin's package and version), the products are taken from,
    or else written to, the cache (:mod:`rhbench.cache`).
    """
    key = None
    if cache_package is not None:
        inputs = {"target": target, "period": period, "parts": parts, "land_mask": native.land_mask}
        key = cache.key_for(source, root, package=cache_package, twobox=native.twobox, **inputs)
    cached = None if key is None else cache.load(key)
    if cached is not None:
        return cached
    started = time.perf_counter()
    try:
        # small files are read in memory (no dask) on local threads; on a cluster (a dask.distributed
        # client, `rhbench run --scheduler/--workers`) the model's read and reduction run there
        local = dask.config.get("scheduler", None) is LOCAL_THREADS
        annual, cells = harmonize.load_native(source, root, land_mask=native.land_mask, in_memory=local)
        products = reduce.reduce_native(
            annual, cells, target, period, vegclass=native.vegclass, domain=native.domain, twobox=native.twobox
        )
    except RhbenchError as exc:  # e.g. a one-row grid the reduction cannot place: name the files too
        failures.record(source.name, exc.add_context(source=source.name, file=_files_of(source, root)))
        return None
    except (OSError, RuntimeError, ValueError) as exc:  # netCDF/HDF5 errors while reading values
        failures.record(source.name, _damaged_values(source, root, exc))
        return None
    log.info("%s read and reduced in %.1f s", source.name, time.perf_counter() - started)
    if key is not None:
        try:
            cache.store(key, products)
        except (OSError, ValueError, RuntimeError) as exc:  # a cache is an optimisation only
            log.warning("cannot cache the products of %s: %s", source.name, exc)
    return products


def _fail_implausible(results: Results, failures: Failures, regions: dict[str, xr.Dataset | None]) -> set[str]:
    """Fail every row of a source with an implausible global number (:mod:`rhbench.plausibility`),
    after noting on the total rows of each model (``regions``: its native totals) an areacella
    that does not sum to the sphere (:func:`rhbench.landfrac.note_area_sums`).

    Runs before the ensemble and the 2-box stage, so a source with a units error neither
    enters the ensemble mean nor gets a constraint. Returns the names of those sources.
    """
    results.rows = landfrac.note_area_sums(results.rows, regions)
    results.rows, suspects = plausibility.enforce_plausibility(results.rows)
    for name, reason in suspects.items():
        failures.record(name, reason)
    return set(suspects)


def _record_failures(
    results: Results, failures: Failures, registry: Registry, reference_failed: str | None = None
) -> None:
    """Fail the rows that need a failed reference with its reason (``reference_failed``,
    :func:`rhbench.failed_reference.fail_rows_needing_it`), then add one failed ``load`` row per
    failed source and the reasons to ``results``."""
    if reference_failed is not None:
        results.rows = failed_reference.fail_rows_needing_it(results.rows, reference_failed)
    kinds = {name: source.kind for name, source in registry.sources.items()}
    results.rows.extend(failures.rows(kinds))
    results.failures.update(failures.reasons)
