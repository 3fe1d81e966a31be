"""``rhbench demo``: write the deterministic SYNTHETIC demo ensemble."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from rhbench.config import RESOLUTION_RANGE, RunConfig, validate
from rhbench.demo import generate_demo
from rhbench.errors import ConfigError, OutputExistsError
from rhbench.fileops import refuse_to_overwrite
from rhbench.progress import progress_callback

log = logging.getLogger(__name__)
#: Coarsest demo grid, degrees (the demo needs a few cells of latitude).
DEMO_RESOLUTION_MAX = 45.0


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``demo`` sub-command."""
    parser = subparsers.add_parser(
        "demo",
        help="write the synthetic demo ensemble (TRENDY file conventions)",
        description="Write the deterministic SYNTHETIC demo ensemble into a data root: observation products, "
        "site table and predictor grids, and the files of every installed DGVM plugin (yours too) at its "
        "catalog paths in its declared conventions; every file is marked synthetic, and a run on it is "
        "labelled SYNTHETIC. Exit 0; 2: the folder is not one rhbench demo wrote.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("rhbench-demo"), help="data root to write (default: ./rhbench-demo)"
    )
    parser.add_argument(
        "--resolution", type=float, default=2.0, help="grid spacing in degrees (default 2; 0.5 = full size)"
    )
    parser.add_argument("--monthly", action="store_true", help="monthly fluxes, as real TRENDY files")
    parser.add_argument(
        "--models", type=int, default=None, metavar="N", help="write only the first N DGVMs (for scale benchmarks)"
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seed of the generator (default 0: the same files each time)"
    )
    parser.add_argument("--force", action="store_true", help="write into a folder a previous rhbench demo wrote")
    parser.set_defaults(func=run)
    return parser


def _refuse_foreign_folder(out: Path) -> None:
    """``--force`` writes only into a folder a previous ``rhbench demo`` wrote, never into the cache."""
    from rhbench.demo import MARKER_FILE
    from rhbench.fileops import cache_path
    from rhbench.outdir import refuse_overlap
    from rhbench.ownership import foreign_folder

    refuse_overlap(Path(out), {"cache": cache_path()})
    if foreign_folder(out, MARKER_FILE):
        raise OutputExistsError(
            f"--force writes only into a folder rhbench demo wrote, and this one has no {MARKER_FILE}",
            file=str(out),
            expected="another --out, or an empty folder",
        )


def _validate(args: argparse.Namespace) -> None:
    """The run's seed rule, a finite resolution of at least the run's minimum, N >= 1 DGVMs.

    A NaN or negative value was a traceback, 0.01 degrees a memory kill; coarse demos
    (e.g. 20 degrees, for fast tests) stay allowed.
    """
    validate(RunConfig(seed=args.seed))
    low = RESOLUTION_RANGE[0]
    if not math.isfinite(args.resolution) or not low <= args.resolution <= DEMO_RESOLUTION_MAX:
        raise ConfigError(
            "resolution must be a finite number of degrees",
            variable="resolution",
            found=repr(args.resolution),
            expected=f"{low:g} to {DEMO_RESOLUTION_MAX:g}",
        )
    if args.models is not None and args.models < 1:
        raise ConfigError(
            "--models N writes the first N DGVMs", variable="--models", found=str(args.models), expected=">= 1"
        )


def run(args: argparse.Namespace) -> int:
    """Write the demo; exit 0."""
    from rhbench.registry import build_registry

    _validate(args)
    refuse_to_overwrite(args.out, args.force)
    _refuse_foreign_folder(args.out)
    registry = build_registry()
    if args.models is not None:
        keep = {s.name for s in registry.of_kind("dgvm")[: args.models]}
        registry.sources = {n: s for n, s in registry.sources.items() if s.kind != "dgvm" or n in keep}
    with progress_callback("writing synthetic demo", total=len(registry.sources), quiet=args.quiet) as step:
        truth = generate_demo(
            args.out, resolution=args.resolution, monthly=args.monthly, seed=args.seed, registry=registry, progress=step
        )
    log.info("SYNTHETIC demo ensemble written to %s (%d DGVMs)", args.out, len(truth["dgvm"]))
    return 0
