"""Run the Rh upscaling end to end and write its outputs.

:func:`run_upscaling` reads SRDB, builds the predictors, tunes the forest by zone-stratified
CV, computes importance, group importance and partial dependence, and, when gridded
predictors are given, maps Rh with the fold-forest ensemble (mean = product, SD =
uncertainty). Every file is written atomically (temporary name in the output folder,
then ``os.replace``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from rhbench.fileops import write_atomic
from rhbench.grid import cell_area
from rhbench.metrics.totals import global_total
from rhbench.upscaling import forest
from rhbench.upscaling.predictors import (
    PREDICTOR_GROUPS,
    PREDICTORS,
    build_site_predictors,
    check_grids,
    grid_predictors,
)
from rhbench.upscaling.srdb import load_srdb

logger = logging.getLogger(__name__)

RH_UNITS = "g C m-2 yr-1"
N_PARTIAL_DEPENDENCE = 3
OUTPUT_FILES = (
    "cv_metrics.json",
    "filter_log.csv",
    "importance.csv",
    "group_importance.csv",
    "partial_dependence.csv",
    "oof_predictions.csv",
)


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    write_atomic(path, lambda tmp: table.to_csv(tmp, index=False))


def _synthetic_flag(grids: xr.Dataset | None) -> bool:
    """The gridded predictors' ``synthetic`` attribute (bool, 0/1 or "true"/"false")."""
    flag = grids.attrs.get("synthetic", False) if grids is not None else False
    if isinstance(flag, str):
        return flag.strip().lower() in ("1", "true", "yes")
    return bool(flag)


def _importance(model, columns: list[str]) -> pd.DataFrame:
    table = forest.impurity_importance(model, columns)
    owner = {col: group for group, cols in PREDICTOR_GROUPS.items() for col in cols}
    table["group"] = table["predictor"].map(owner)
    return table


def rh_map(models: list, grids: xr.Dataset, *, n_obs: int, source: str) -> xr.Dataset:
    """Mean and SD of the ensemble's Rh on the predictors' grid (g C m-2 yr-1).

    Cells without usable predictors are NaN. Attributes give the global total of the mean
    map and the SD of the members' global totals, in Pg C yr-1.
    """
    grids = check_grids(grids)
    table = grid_predictors(grids)
    members = forest.ensemble_predictions(models, table)
    lat, lon = grids["lat"].values, grids["lon"].values
    ilat = np.searchsorted(lat, table.index.get_level_values("lat"))
    ilon = np.searchsorted(lon, table.index.get_level_values("lon"))
    stack = np.full((len(models), lat.size, lon.size), np.nan)
    stack[:, ilat, ilon] = members
    coords = {"lat": lat, "lon": lon}
    area = cell_area(lat, lon)
    member_totals = [float(global_total(xr.DataArray(m, dims=("lat", "lon"), coords=coords), area)) for m in stack]
    out = xr.Dataset(
        {
            "rh": (
                ("lat", "lon"),
                stack.mean(axis=0),
                {
                    "units": RH_UNITS,
                    "long_name": "soil heterotrophic respiration (RF ensemble mean)",
                },
            ),
            "rh_sd": (
                ("lat", "lon"),
                stack.std(axis=0),
                {"units": RH_UNITS, "long_name": "SD of Rh across the RF ensemble"},
            ),
        },
        coords=coords,
    )
    total = float(global_total(out["rh"], area))
    out.attrs = {
        "title": "Observation-based Rh: Random Forest upscaling of SRDB site Rh",
        "source": source,
        "n_obs": n_obs,
        "n_ensemble": len(models),
        "global_total_PgC_per_yr": total,
        "global_total_sd_PgC_per_yr": float(np.std(member_totals)),
        "synthetic": int(_synthetic_flag(grids)),
    }
    logger.info("Rh map: global total %.2f Pg C yr-1 from %d cells", total, len(table))
    return out


def run_upscaling(
    srdb_csv: Path,
    out_dir: Path,
    *,
    grids: xr.Dataset | None = None,
    quick: bool = False,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Build the observation-based Rh product and its CV report in ``out_dir``.

    Parameters
    ----------
    srdb_csv
        SRDB v5 ``srdb-data.csv`` (or a file with the same columns); Rh in g C m-2 yr-1.
    out_dir
        Output folder (created if needed; existing files of the same names are replaced).
    grids
        Optional gridded predictors (``tas`` deg C, ``pr`` mm yr-1, ``vegclass``): fill
        missing site values and, when given, the map ``rh_rf.nc`` is written.
    quick
        Tiny tuning grid (one configuration, 50 trees, 5 folds) for demos and tests.
    seed
        Seed of the fold split and of every forest.
    progress
        Called once per forest fitted during tuning (see :func:`forest.tune_forest`).

    Returns
    -------
    dict
        The content of ``cv_metrics.json``: n_obs, n_by_zone, r2, nse, rmse (g C m-2 yr-1),
        best {n_estimators, max_features}, grid, seconds and provenance keys.
    """
    start = time.perf_counter()
    srdb_csv, out_dir = Path(srdb_csv), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rows, filter_log = load_srdb(srdb_csv)
    site = build_site_predictors(rows, grids)
    y = site.sites["Rh_annual"].to_numpy(dtype=float)
    zones = site.sites["zone"].to_numpy()
    settings = forest.QUICK_GRID if quick else forest.FULL_GRID
    tuning = forest.tune_forest(site.X, y, zones, seed=seed, progress=progress, **settings)
    tuning_seconds = time.perf_counter() - start

    model = forest.fit_forest(site.X, y, tuning.best, seed)
    importance = _importance(model, list(site.X.columns))
    groups, group_r2 = forest.group_importance(site.X, y, PREDICTOR_GROUPS, tuning.fold, tuning.best, seed)
    top = importance["predictor"].head(N_PARTIAL_DEPENDENCE).tolist()
    pdp = forest.partial_dependence_table(model, site.X, top)
    oof = site.sites.reindex(
        columns=["Record_number", "Study_number", "Latitude", "Longitude", "zone", "vegetation"]
    ).assign(fold=tuning.fold, observed=y, predicted=tuning.oof)

    _write_csv(pd.concat([filter_log, site.log], ignore_index=True), out_dir / "filter_log.csv")
    _write_csv(importance, out_dir / "importance.csv")
    _write_csv(groups, out_dir / "group_importance.csv")
    _write_csv(pdp, out_dir / "partial_dependence.csv")
    _write_csv(oof, out_dir / "oof_predictions.csv")
    source = f"SRDB v5 site Rh ({srdb_csv.name}), rhbench Random Forest upscaling"
    if grids is not None:
        product = rh_map(tuning.models, grids, n_obs=len(y), source=source)
        write_atomic(out_dir / "rh_rf.nc", product.to_netcdf)

    metrics = {
        "n_obs": int(len(y)),
        "n_by_zone": {z: int((zones == z).sum()) for z in ("tropical", "temperate", "boreal")},
        **tuning.scores,
        "best": tuning.best,
        "grid": tuning.grid.to_dict(orient="records"),
        "n_splits": settings["n_splits"],
        "group_pca_r2": group_r2,
        "predictors": list(PREDICTORS),
        "ensemble": f"{len(tuning.models)} fold forests of the best configuration",
        "quick": quick,
        "seed": seed,
        "synthetic": _synthetic_flag(grids),
        "source": source,
        "tuning_seconds": tuning_seconds,
        "seconds": time.perf_counter() - start,
    }
    if grids is not None:
        metrics["global_total_PgC_per_yr"] = product.attrs["global_total_PgC_per_yr"]
    write_atomic(
        out_dir / "cv_metrics.json",
        lambda tmp: tmp.write_text(json.dumps(metrics, indent=2) + "\n"),
    )
    logger.info(
        "upscaling done in %.1f s: R2 %.3f NSE %.3f RMSE %.1f %s",
        metrics["seconds"],
        metrics["r2"],
        metrics["nse"],
        metrics["rmse"],
        RH_UNITS,
    )
    return metrics
