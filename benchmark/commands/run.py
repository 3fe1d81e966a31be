"""``rhbench run``: the main job. With no data root and no config it runs the SYNTHETIC demo."""

from __future__ import annotations

import argparse
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from rhbench import democache
from rhbench.config import DEMO_RESOLUTION, RunConfig, refuse_data_root_not_folder, resolve
from rhbench.democache import demo_root
from rhbench.errors import ConfigError

if TYPE_CHECKING:
    from rhbench.registry import Registry

log = logging.getLogger(__name__)
#: How long ``--scheduler`` may take to connect before the run stops (dask's time string).
SCHEDULER_TIMEOUT = "10s"
#: Failed rows (one line per source and reason) listed on stderr before the rest are counted.
FAILED_ROWS_SHOWN = 20

__all__ = ["DEMO_RESOLUTION", "add_parser", "demo_root", "prepare_demo", "run"]


def prepare_demo(config: RunConfig, registry: Registry, progress: Callable[[str], None] | None = None) -> Path:
    """Generate the SYNTHETIC demo once (cached) and return its data root. Using the cache's demo
    root, the demo roots earlier rhbench versions left in the cache are removed
    (:func:`rhbench.democache.prune`: only theirs, only those no run holds)."""
    from rhbench.demo import demo_is_current, generate_demo

    root = config.data_root or demo_root(config.resolution, config.demo_monthly, config.seed)
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
    if config.data_root is None:
        democache.prune(keep=root)
    return root


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``run`` sub-command."""
    parser = subparsers.add_parser(
        "run",
        help="benchmark every DGVM plugin (no arguments: the synthetic demo)",
        description="Benchmark the DGVM plugins (and CMIP6 models) in a data root; without one, the SYNTHETIC "
        "demo. Settings not given here (period, resolution, products): --config run.toml (README, "
        '"Configuration file"). Exit 0: every source benchmarked; 2: unusable input or configuration, nothing '
        "written; 3: a source or row failed (in the scorecard, listed on stderr).",
    )
    parser.add_argument("--config", type=Path, help="TOML run configuration")
    parser.add_argument("--data-root", type=Path, help="data root (default: config data_root or RHBENCH_DATA)")
    parser.add_argument("--ilamb-root", type=Path, help="existing ILAMB data folder for ILAMB-hosted files")
    parser.add_argument("--out", type=Path, help="output folder (default: ./rhbench-out/run-<time>)")
    parser.add_argument(
        "--models",
        help="comma-separated model names as the run reports them: DGVM plugins and CMIP6 source_id.member "
        "(default: every DGVM plugin with files in the data root, or with --cmip6 every CMIP6 model found; "
        "`rhbench plugins` lists them)",
    )
    parser.add_argument("--scheduler", help="address of an existing dask.distributed scheduler")
    parser.add_argument("--workers", type=int, help="start a local dask cluster with N workers")
    parser.add_argument("--seed", type=int, help="random seed (default 0)")
    parser.add_argument(
        "--cmip6",
        action="append",
        metavar="PATH",
        help="folder of CMOR-named CMIP6 files (DRS or flat) or intake-esm catalog JSON; "
        "each model found is benchmarked as source_id.member (repeatable)",
    )
    parser.add_argument("--force", action="store_true", help="replace an existing output folder")
    parser.add_argument(
        "--no-cache", dest="use_cache", action="store_false", help="read every model even if its products are cached"
    )
    parser.set_defaults(func=run)
    return parser


def _probe_scheduler(address: str) -> None:
    """Ask ``address`` for its identity within :data:`SCHEDULER_TIMEOUT`; raise unless a dask scheduler answers.

    ``Client(address, timeout=...)`` waits forever on a server that accepts the connection
    but does not speak dask's protocol (e.g. the dashboard port 8787), and reads another
    protocol's bytes as a frame length (a MemoryError).
    """
    import asyncio

    from dask.utils import parse_timedelta
    from distributed.core import rpc

    seconds = parse_timedelta(SCHEDULER_TIMEOUT)

    async def identity() -> dict:
        remote = rpc(address, timeout=seconds)
        try:
            return await remote.identity()
        finally:
            await remote.close_rpc()

    try:
        info = asyncio.run(asyncio.wait_for(identity(), seconds))
    except TimeoutError:
        raise TimeoutError(f"no dask reply from {address} within {SCHEDULER_TIMEOUT}") from None
    if not isinstance(info, dict) or info.get("type") != "Scheduler":
        raise ValueError(f"{address} is not a dask scheduler (identity: {str(info)[:80]})")


@contextlib.contextmanager
def _dask_client(scheduler: str | None, workers: int | None):
    if not scheduler and not workers:
        yield None
        return
    from dask.distributed import Client, LocalCluster

    if scheduler:
        try:
            _probe_scheduler(scheduler)
            client = Client(scheduler, timeout=SCHEDULER_TIMEOUT)
        except Exception as exc:  # refused, unreachable, not an address, or not a dask scheduler
            raise ConfigError(
                f"cannot reach the dask scheduler within {SCHEDULER_TIMEOUT} ({type(exc).__name__}: {exc})",
                variable="--scheduler",
                found=scheduler,
                expected="the address of a running dask.distributed scheduler, e.g. tcp://host:8786",
            ) from None
        with client:
            yield client
    else:
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster,
            Client(cluster) as client,
        ):
            yield client


def _summary(outcome, period: tuple[int, int]) -> None:
    from rhbench import datalabel

    data = datalabel.of(getattr(outcome, "data", None), outcome.synthetic)
    table = Table(title=f"global Rh {period[0]}-{period[1]} and tau_soil ({datalabel.headline(data)})")
    for column in ("source", "kind", "Rh (Pg C/yr)", "tau_soil (yr)", "dcTotal constrained (Pg C)"):
        table.add_column(column)
    values: dict[str, dict[str, float]] = {}
    kinds: dict[str, str] = {}
    for row in outcome.results.rows:
        if row.region == "global" and row.status == "ok":
            values.setdefault(row.source, {})[row.metric] = row.value
            kinds[row.source] = row.kind
    for source, metrics in values.items():
        if "rh_global" not in metrics and "dcTotal_constrained" not in metrics:
            continue
        table.add_row(
            source,
            kinds[source],
            *(
                f"{metrics[m]:.1f}" if m in metrics else "-"
                for m in ("rh_global", "tau_soil_global", "dcTotal_constrained")
            ),
        )
    table.caption = datalabel.summary(data)  # the label and the data versions, e.g. the SRDB release
    Console(stderr=True).print(table)


def _failure_summary(outcome) -> None:
    """Say on stderr which sources and rows failed (the reason of exit code 3).

    Each source's failure was logged in full when it happened; this recap gives one line per
    kind of failure (the reason's first clause) naming its sources, so a data root without,
    say, any TRENDY file does not print every path twice.
    """
    kinds: dict[str, list[str]] = {}
    for name, reason in sorted(outcome.failures.items()):
        kinds.setdefault(str(reason).split(";")[0].strip(), []).append(name)
    for kind, names in kinds.items():
        log.warning("%d source%s failed (%s): %s", len(names), "s" * (len(names) > 1), kind, ", ".join(names))
    rows = [r for r in outcome.failed_rows if r.metric != "load"]  # a failed source's row is said above
    groups: dict[tuple[str, str], list] = {}  # one line per source and reason: 137 rows of one cause are one line
    for row in rows:
        groups.setdefault((row.source, row.reason), []).append(row)
    for (source, reason), same in list(groups.items())[:FAILED_ROWS_SHOWN]:
        first = same[0]
        more = f" [and {len(same) - 1} more rows of {source} with this reason]" if len(same) > 1 else ""
        log.warning("failed row %s / %s / %s: %s%s", source, first.metric, first.region, reason, more)
    if len(groups) > FAILED_ROWS_SHOWN:
        hidden = sum(len(g) for g in list(groups.values())[FAILED_ROWS_SHOWN:])
        log.warning("... and %d more failed rows (see scorecard.json)", hidden)
    if outcome.exit_code:
        sources = sorted({r.source for r in outcome.failed_rows} | set(outcome.failures))
        log.warning("exit 3: %d failed rows from %s", len(outcome.failed_rows), ", ".join(sources))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark; exit 0 when every source succeeded, 3 when some failed.

    The page workers (:mod:`rhbench.report.workers`) start once the pipeline's modules are
    imported (they share them), before any data is read, and are stopped when the run ends,
    whatever happened.
    """
    from rhbench.report import workers

    try:
        return _run(args, workers)
    finally:
        workers.stop()


def _run(args: argparse.Namespace, workers) -> int:
    from rhbench.cli import process_ends_after_command
    from rhbench.importcost import collector_paused, xarray_without_pint

    # ~0.15 s of garbage collection while importing (rhbench.importcost)
    with collector_paused(freeze=process_ends_after_command()):
        from rhbench import catalog
        from rhbench.pipeline import run as run_pipeline
        from rhbench.progress import progress_callback
        from rhbench.registry import build_registry

    if process_ends_after_command():
        xarray_without_pint()  # ~0.05 s of pint's import, in the run and in its page workers
    # after the imports the workers share, before any thread or data
    workers.start(fresh_process=process_ends_after_command())

    config = resolve(args)
    _refuse_missing_root(config.data_root, demo=config.demo)
    from rhbench.report.manifest import gate_context, gate_key

    gate_key(), gate_context()  # a key that cannot sign (empty, short, a key file others read) stops the run now
    registry = build_registry()
    held = contextlib.nullcontext()  # the cache's demo root is held while the run reads it
    if config.demo:
        log.info("no data root given: running on the SYNTHETIC demo ensemble")
        from rhbench.demo import demo_is_current

        root = config.data_root or demo_root(config.resolution, config.demo_monthly, config.seed)
        cached = demo_is_current(root, resolution=config.resolution, monthly=config.demo_monthly, registry=registry)
        bar_off = args.quiet or cached  # no bar flashing over a cached demo
        with progress_callback("writing synthetic demo", total=len(registry.sources), quiet=bar_off) as step:
            held = democache.holding(root) if config.data_root is None else held
            config = replace(config, data_root=prepare_demo(config, registry, step))
    from rhbench.selection import model_count

    with (
        held,
        catalog.using_ilamb_root(config.ilamb_root),
        _dask_client(config.scheduler, args.workers),
        progress_callback("benchmarking models", total=model_count(config, registry), quiet=args.quiet) as step,
    ):
        outcome = run_pipeline(config, registry=registry, progress=step)
    if not args.quiet:
        _summary(outcome, config.period)
    _failure_summary(outcome)
    from rhbench import datalabel

    data = datalabel.of(getattr(outcome, "data", None), outcome.synthetic)
    log.info("results written to %s (%s)", outcome.out_dir, datalabel.short(data))
    return outcome.exit_code


def _refuse_missing_root(root: Path | None, *, demo: bool) -> None:
    """A data root that is a file or does not exist is a ConfigError saying so (was "no reference Rh in the
    data root ... found: no such file", naming a file inside it)."""
    if not demo:
        refuse_data_root_not_folder(root, missing_ok=False)
