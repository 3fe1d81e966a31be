"""``rhbench upscale``: the Random Forest Rh product and its cross-validation report."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from rhbench.errors import ConfigError, OutputError, OutputExistsError, RhbenchError, SiteDataError
from rhbench.fileops import refuse_to_overwrite
from rhbench.outdir import disk_error, new_staging, signals_deferred
from rhbench.ownership import holds_marker
from rhbench.progress import progress_callback

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``upscale`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser(
        "upscale",
        help="Random Forest upscaling of SRDB site Rh (CV report; Rh map with a predictor stack)",
        description="Filter SRDB v5 site Rh, take every site's predictors from its 0.5 deg cell of "
        "the predictor stack, tune a Random Forest by zone-stratified 10-fold CV and write "
        "cv_metrics.json, importance, partial dependence, the Rh map rh_rf.nc (g C m-2 yr-1) and "
        "totals.csv (Pg C yr-1). Without --predictors the stack fetched into the data root is used "
        "when present (rhbench fetch Jian2020-predictors); without any stack only the CV report "
        "(site MAT, MAP, vegetation type) is made.",
    )
    parser.add_argument("--srdb", type=Path, metavar="CSV", help="srdb-data.csv (default: the data root's copy)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--predictors",
        type=Path,
        metavar="NC",
        help="predictor stack netCDF (e.g. global_Rt_contribution_to_Rs2.nc) or demo grids (tas, pr, vegclass)",
    )
    parser.add_argument("--land-fraction", type=Path, metavar="NC", help="0.5 deg land fraction (0-1) for totals")
    parser.add_argument("--data-root", type=Path, metavar="DIR", help="data root with fetched files (or RHBENCH_DATA)")
    parser.add_argument("--quick", action="store_true", help="tiny tuning grid (1 configuration, 50 trees, 5 folds)")
    parser.add_argument("--seed", type=int, default=0, help="seed of folds and forests")
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into an existing non-empty output folder (files of the outputs' names are replaced "
        "only in a folder an earlier rhbench upscale wrote; there the earlier product's files this run "
        "does not write are removed)",
    )
    parser.set_defaults(func=run)
    return parser


def _inputs(args: argparse.Namespace):
    from rhbench import catalog
    from rhbench.config import refuse_data_root_not_folder
    from rhbench.registry import build_registry
    from rhbench.upscaling import inputs
    from rhbench.upscaling.stack import load_stack

    registry = build_registry()
    root = catalog.resolve_data_root(args.data_root)
    srdb = args.srdb or inputs.fetched_sites(registry, root)
    if srdb is None:
        refuse_data_root_not_folder(root, missing_ok=False)  # a data root given, but no folder: say so
        raise ConfigError("no SRDB table: pass --srdb or a data root holding it (rhbench fetch srdb)", source="upscale")
    if not Path(srdb).is_file():
        raise SiteDataError("site table not found", source="SRDB", file=str(srdb))
    files: list[Path] = []
    if args.predictors is not None:
        stack = inputs.open_predictors(registry, args.predictors)
        files = [Path(args.predictors)]
    else:
        found = inputs.fetched_stack(registry, root)
        stack = None
        if found is not None:
            logger.info("no --predictors given: using the fetched predictor stack %s at %s", found[0].name, found[1])
            stack = load_stack(*found)
            files = [found[1]]
        else:
            logger.info("no predictor stack (--predictors, or rhbench fetch Jian2020-predictors): CV report only")
    fraction, note = (None, "")
    if stack is not None:
        fraction, note = inputs.land_fraction(registry, root, args.land_fraction)
        logger.info("land fraction for totals: %s", note)
        if fraction is not None:  # a gridded input like the stack: labelled by the same rule
            files.append(inputs.land_fraction_file(registry, root, args.land_fraction))
    versions = inputs.provenance(registry, Path(srdb), stack, files)  # REAL or SYNTHETIC: the one rule
    return Path(srdb), stack, fraction, note, versions


#: Written into every ``rhbench upscale`` output folder: its output files are rhbench's.
UPSCALE_MARKER = ".rhbench-upscale"


def _refuse_out(args: argparse.Namespace) -> None:
    """Refuse an ``--out`` among the inputs (data root, a folder it links to, the cache), even
    with ``--force``, or a non-empty one without ``--force``. With ``--force`` the outputs are
    written beside the folder's other files, but a file of an output's name is replaced only
    in a folder an earlier ``rhbench upscale`` wrote (it holds :data:`UPSCALE_MARKER`, see
    :func:`_publish`)."""
    from rhbench import catalog
    from rhbench.fileops import cache_path
    from rhbench.outdir import protected_folders, refuse_overlap
    from rhbench.upscaling.product import MAP_FILES, OUTPUT_FILES

    out = Path(args.out)
    root = catalog.resolve_data_root(args.data_root)
    refuse_overlap(out, {**protected_folders(root), "cache": cache_path()})
    refuse_to_overwrite(out, args.force)
    clashes = [name for name in OUTPUT_FILES + MAP_FILES if (out / name).exists()]
    if clashes and not holds_marker(out, UPSCALE_MARKER):
        raise OutputExistsError(
            "--force would replace files rhbench upscale did not write",
            file=str(out),
            found=clashes,
            expected=f"another --out, or a folder of an earlier rhbench upscale (with {UPSCALE_MARKER})",
        )


@contextlib.contextmanager
def _staged(out: Path) -> Iterator[Path]:
    """A hidden folder beside ``out`` (:func:`rhbench.outdir.new_staging`, marked with
    :data:`UPSCALE_MARKER`) to write the product into, published by :func:`_publish` only when the
    block succeeds, with SIGINT/SIGTERM held meanwhile (:func:`rhbench.outdir.signals_deferred`).
    On any failure (an error after the CV, Ctrl-C) the staging folder and the parent folders this
    run created are removed: ``out`` is left as it was."""
    created = [p for p in (out.parent, *out.parent.parents) if not p.exists()]
    try:
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise disk_error(err, out) from err
        staging = new_staging(out, kind="upscale-partial", marker=UPSCALE_MARKER, text="written by rhbench upscale\n")
        try:
            yield staging
            with signals_deferred():  # a Ctrl-C mid-move would mix two products' files
                _publish(staging, out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    except BaseException:
        for folder in created:  # deepest first; only empty folders this run made
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _publish(staging: Path, out: Path) -> None:
    """Move the staged product into ``out``: the whole folder when ``out`` does not exist,
    else file by file (``--force``: the folder's other files stay, but an earlier product's
    files this run did not write again, e.g. its map after a CV-only run, are removed: one
    folder holds one product)."""
    from rhbench.upscaling.product import MAP_FILES, OUTPUT_FILES

    try:
        if not out.exists():
            os.rename(staging, out)
            return
        written = sorted(staging.iterdir())
        for item in written:
            os.replace(item, out / item.name)
        for name in set(OUTPUT_FILES + MAP_FILES) - {item.name for item in written}:  # _refuse_out: ours
            if (out / name).is_file():
                (out / name).unlink()
        staging.rmdir()
    except OSError as err:
        raise OutputError("cannot move the product into the output folder", file=str(out), found=str(err)) from err


def run(args: argparse.Namespace) -> int:
    """Run the upscaling; return 0 on success, 2 on unusable input or output folder."""
    from rhbench.upscaling.forest import FULL_GRID, QUICK_GRID
    from rhbench.upscaling.product import run_upscaling

    try:
        _refuse_out(args)
        srdb, stack, fraction, note, versions = _inputs(args)
        settings = QUICK_GRID if args.quick else FULL_GRID
        fits = len(settings["max_features"]) * settings["n_splits"]
        quiet = getattr(args, "quiet", False)
        with (
            _staged(Path(args.out)) as staging,
            progress_callback("tuning Random Forest", total=fits, quiet=quiet) as step,
        ):
            metrics = run_upscaling(
                srdb,
                staging,
                stack=stack,
                land_fraction=fraction,
                land_fraction_note=note,
                versions=versions,
                quick=args.quick,
                seed=args.seed,
                progress=step,
            )
    except RhbenchError as err:
        logger.error("%s", err)
        return 2
    # the product logged its scores and global total; say only where it went
    logger.info("Rh upscaling (%s) of %d sites written to %s", metrics["data_label"], metrics["n_obs"], args.out)
    return 0
