"""``rhbench upscale``: the Random Forest Rh product and its cross-validation report."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import xarray as xr

from rhbench.errors import DataError, RhbenchError
from rhbench.fileops import refuse_to_overwrite
from rhbench.progress import progress_callback
from rhbench.upscaling.forest import FULL_GRID, QUICK_GRID
from rhbench.upscaling.product import run_upscaling

logger = logging.getLogger(__name__)


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``upscale`` sub-command to ``subparsers``."""
    parser = subparsers.add_parser(
        "upscale",
        help="Random Forest upscaling of SRDB site Rh (CV report; map with --predictors)",
        description="Filter SRDB v5 site Rh, tune a Random Forest by zone-stratified 10-fold "
        "CV and write cv_metrics.json, importance, partial dependence and, with "
        "--predictors, the Rh map rh_rf.nc (g C m-2 yr-1).",
    )
    parser.add_argument(
        "--srdb",
        type=Path,
        required=True,
        metavar="CSV",
        help="SRDB v5 srdb-data.csv (or a file with the same columns)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    parser.add_argument(
        "--predictors",
        type=Path,
        metavar="NC",
        help="netCDF with tas (degC), pr (mm yr-1), vegclass (flag_meanings)",
    )
    parser.add_argument("--quick", action="store_true", help="tiny tuning grid (1 configuration, 50 trees, 5 folds)")
    parser.add_argument("--seed", type=int, default=0, help="seed of folds and forests")
    parser.add_argument("--force", action="store_true", help="write into an existing non-empty output folder")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run the upscaling; return 0 on success, 2 on unusable input or output folder."""
    try:
        refuse_to_overwrite(args.out, args.force)
        grids = None
        if args.predictors is not None:
            if not args.predictors.is_file():
                raise DataError("predictors file not found", file=str(args.predictors))
            try:
                grids = xr.load_dataset(args.predictors)
            except (OSError, ValueError) as err:
                raise DataError(
                    "predictors file is not readable netCDF",
                    file=str(args.predictors),
                    found=str(err),
                    expected="netCDF with tas, pr, vegclass",
                ) from err
        settings = QUICK_GRID if args.quick else FULL_GRID
        fits = len(settings["max_features"]) * settings["n_splits"]
        with progress_callback("tuning Random Forest", total=fits, quiet=getattr(args, "quiet", False)) as step:
            metrics = run_upscaling(args.srdb, args.out, grids=grids, quick=args.quick, seed=args.seed, progress=step)
    except RhbenchError as err:
        logger.error("%s", err)
        return 2
    label = " (synthetic)" if metrics["synthetic"] else ""
    logger.info(
        "Rh upscaling%s: n=%d R2=%.2f NSE=%.2f RMSE=%.1f g C m-2 yr-1 -> %s",
        label,
        metrics["n_obs"],
        metrics["r2"],
        metrics["nse"],
        metrics["rmse"],
        args.out,
    )
    return 0
