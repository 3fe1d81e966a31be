"""Run the Rh upscaling end to end and write its outputs.

:func:`run_upscaling` reads SRDB, builds the site predictors (from the gridded stack when
given), tunes the forest by zone-stratified CV, computes importance (mean and SD across
the fold forests), group importance and partial dependence, and, with a stack, maps Rh
with the fold-forest ensemble (mean = product, SD = uncertainty) and totals it. Every file
is written atomically (temporary name in the output folder, then ``os.replace``).

The same inputs and seed give byte-identical files: no wall-clock time is written into any
of them (the run's time and date go to ``run_log.json`` alone; :func:`history`).

Outputs carry ``data_label`` (``REAL``, ``UNVERIFIED`` or ``SYNTHETIC``) and the data versions (SRDB file
and SHA-256, predictor source, file, SHA-256 and version, land fraction) in
``cv_metrics.json`` and in the attributes of ``rh_rf.nc``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

import rhbench
from rhbench.errors import SiteDataError
from rhbench.fileops import sha256_of, write_atomic
from rhbench.upscaling import forest, grouped, rhmap
from rhbench.upscaling.predictors import PREDICTOR_GROUPS, build_site_predictors
from rhbench.upscaling.srdb import ZONES, load_srdb
from rhbench.upscaling.stack import (
    PredictorStack,
    categorical_columns,
    column_groups,
    grid_table,
    stack_from_grids,
)

logger = logging.getLogger(__name__)

RH_UNITS = "g C m-2 yr-1"
N_PARTIAL_DEPENDENCE = 6
OUTPUT_FILES = (
    "cv_metrics.json",
    "filter_log.csv",
    "importance.csv",
    "group_importance.csv",
    "partial_dependence.csv",
    "oof_predictions.csv",
    "run_log.json",
)
#: Wall-clock facts of a run: written to ``run_log.json`` only, so that every product file is
#: byte-identical for the same inputs and seed.
RUN_LOG_KEYS = ("seconds", "tuning_seconds", "date_utc")
MAP_FILES = ("rh_rf.nc", "totals.csv", "site_cells.csv")
NO_LAND_FRACTION = "none given: every valid cell counted as fully land (cell area x 1)"


def _write_csv(table: pd.DataFrame, path: Path) -> None:
    write_atomic(path, lambda tmp: table.to_csv(tmp, index=False))


def _groups(columns: list[str], stack: PredictorStack | None) -> tuple[dict, dict]:
    """Continuous columns and categorical (one-hot) columns of each paper group."""
    if stack is None:  # site columns: the vegetation type is categorical, never a PCA input
        return {"climate": PREDICTOR_GROUPS["climate"]}, {"vegetation": PREDICTOR_GROUPS["vegetation"]}
    owner = column_groups(columns)
    categorical = set(categorical_columns(columns, stack))
    continuous: dict[str, list[str]] = {}
    onehot: dict[str, list[str]] = {}
    for col in columns:
        target = onehot if col in categorical else continuous
        target.setdefault(owner[col], []).append(col)
    return continuous, onehot


def _provenance(srdb_csv: Path, stack: PredictorStack | None, label: str, versions: dict | None) -> dict:
    info = {
        "data_label": label,
        "synthetic": label == "SYNTHETIC",
        "srdb_file": srdb_csv.name,
        "srdb_sha256": sha256_of(srdb_csv),
        "rhbench_version": rhbench.__version__,
    }
    if stack is not None:
        info.update({f"predictors_{k}": v for k, v in stack.provenance.items() if k != "synthetic"})
    info.update(versions or {})
    return info


def _map_product(
    tuning: forest.TuningResult,
    stack: PredictorStack,
    land_fraction: xr.DataArray | None,
    land_fraction_note: str,
    attrs: dict,
    out_dir: Path,
    classes: xr.DataArray | None = None,
) -> pd.DataFrame:
    """Predict, total and write ``rh_rf.nc`` and ``totals.csv``; return the totals."""
    table, ilat, ilon = grid_table(stack)
    members = forest.ensemble_predictions(tuning.models, table)
    maps = rhmap.member_maps(members, ilat, ilon, (stack.lat.size, stack.lon.size))
    area = rhmap.land_area(stack.lat, stack.lon, land_fraction, source=land_fraction_note or "land fraction")
    totals = rhmap.regional_totals(maps, area, rhmap.region_masks(stack, classes))
    note = land_fraction_note if land_fraction is not None else NO_LAND_FRACTION
    product = rhmap.product_dataset(maps, stack, area, note, totals, attrs)
    write_atomic(out_dir / "rh_rf.nc", lambda tmp: product.to_netcdf(tmp, encoding=rhmap.netcdf_encoding(product)))
    # the label on every row, as in scores.csv: the totals are read without the product's attributes
    _write_csv(totals.assign(data_label=attrs.get("data_label", "SYNTHETIC")), out_dir / "totals.csv")
    glob = totals.set_index("region").loc["global"]
    logger.info(
        "Rh map: global total %.2f +- %.2f Pg C yr-1 (SD of the members' totals) from %d cells",
        glob["total_PgC_per_yr"],
        glob["sd_PgC_per_yr"],
        len(table),
    )
    return totals


def run_upscaling(
    srdb_csv: Path,
    out_dir: Path,
    *,
    stack: PredictorStack | None = None,
    grids: xr.Dataset | None = None,
    land_fraction: xr.DataArray | None = None,
    land_fraction_note: str = "",
    classes: xr.DataArray | None = None,
    versions: dict | None = None,
    quick: bool = False,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Build the observation-based Rh product and its CV report in ``out_dir``.

    Parameters
    ----------
    srdb_csv: SRDB v5 ``srdb-data.csv`` (or the same columns); Rh in g C m-2 yr-1.
    out_dir: output folder (created; files of the same names are replaced).
    stack: gridded predictors: every site predictor then comes from the grid, and the map
        ``rh_rf.nc`` and ``totals.csv`` (Pg C yr-1) are written.
    grids: the demo's ``tas`` (deg C), ``pr`` (mm yr-1), ``vegclass`` grids, made a stack by
        :func:`stack_from_grids` (ignored when ``stack`` is given).
    land_fraction: land fraction (0-1) for the totals (None: every valid cell counts fully);
        ``land_fraction_note`` says where it came from.
    classes: vegetation-class map (CF flags) for per-class totals when the stack has none.
    versions: data versions and label from :func:`rhbench.upscaling.inputs.provenance`; its
        ``data_label`` is the product's (without it the product is SYNTHETIC).
    quick: tiny tuning grid (one configuration, 50 trees, 5 folds) for demos and tests.
    seed: seed of the fold split and of every forest.
    progress: called once per forest fitted during tuning (:func:`forest.tune_forest`).

    Returns the content of ``cv_metrics.json``: n_obs, n_by_zone, r2, nse, rmse (g C m-2 yr-1;
    paper-style CV), best, grid, ``location_grouped_*`` (the best set-up's location-grouped CV,
    :mod:`rhbench.upscaling.grouped`), sampling, totals, label and provenance; plus the run's
    wall-clock facts (:data:`RUN_LOG_KEYS`), written to ``run_log.json`` only.
    """
    start = time.perf_counter()
    srdb_csv, out_dir = Path(srdb_csv), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stack = _checked_stack(stack, grids, land_fraction, land_fraction_note)
    rows, filter_log = load_srdb(srdb_csv)
    site = build_site_predictors(rows, stack)
    y = site.sites["Rh_annual"].to_numpy(dtype=float)
    zones = site.sites["zone"].to_numpy()
    settings = forest.QUICK_GRID if quick else forest.FULL_GRID
    require_sites(pd.concat([filter_log, site.log], ignore_index=True), settings["n_splits"], srdb_csv, zones)
    tuning = forest.tune_forest(site.X, y, zones, seed=seed, progress=progress, **settings)
    tuning_seconds = time.perf_counter() - start
    unseen = grouped.location_grouped_cv(site.X, y, site.sites, tuning.best, settings["n_splits"], seed)
    oof = _diagnose(site, y, tuning, stack, seed, out_dir, unseen)
    _write_csv(pd.concat([filter_log, site.log], ignore_index=True), out_dir / "filter_log.csv")
    metrics = _base_metrics(srdb_csv, stack, versions, site, y, zones, tuning, oof, settings, quick, seed)
    metrics |= {**grouped.grouped_metrics(unseen), "tuning_seconds": tuning_seconds}  # + unseen-location skill
    if stack is not None:
        _add_map(metrics, site, oof, tuning, stack, (land_fraction, land_fraction_note, classes), out_dir)
    _write_report(metrics, out_dir, start)
    _log_done(metrics)
    return metrics


def _write_report(metrics: dict, out_dir: Path, start: float) -> None:
    """``cv_metrics.json`` (the same bytes for the same inputs and seed) and ``run_log.json``
    (:data:`RUN_LOG_KEYS`: the run's wall-clock time since ``start`` and date, also added to
    ``metrics``)."""
    metrics["seconds"] = time.perf_counter() - start
    metrics["date_utc"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    product = {k: v for k, v in metrics.items() if k not in RUN_LOG_KEYS}
    run_log = {"rhbench_version": rhbench.__version__, **{k: metrics[k] for k in RUN_LOG_KEYS}}
    write_atomic(out_dir / "cv_metrics.json", lambda tmp: tmp.write_text(json.dumps(product, indent=2) + "\n"))
    write_atomic(out_dir / "run_log.json", lambda tmp: tmp.write_text(json.dumps(run_log, indent=2) + "\n"))


def _checked_stack(
    stack: PredictorStack | None, grids: xr.Dataset | None, land_fraction: xr.DataArray | None, note: str
) -> PredictorStack | None:
    """``stack``, else one from the demo ``grids``; an unusable land fraction is refused here,
    before any output (see :func:`rhmap.land_area`)."""
    if stack is None and grids is not None:
        stack = stack_from_grids(grids)
    if stack is not None and land_fraction is not None:
        rhmap.land_area(stack.lat, stack.lon, land_fraction, source=note or "land fraction")
    return stack


def require_sites(log: pd.DataFrame, n_splits: int, srdb_csv: Path, zones: np.ndarray | None = None) -> None:
    """Raise :class:`SiteDataError` when fewer sites are left than CV folds (``n_splits``).

    ``log`` is the filter log (``step``, ``rows_left``, ``removed``); the message names the
    steps that removed rows, so an empty table says which filter emptied it. ``zones``: the
    climate zone of each site; a zone without any site is named in a warning (the map
    extrapolates there).
    """
    left = int(log["rows_left"].iloc[-1])
    absent = [z for z in ZONES if zones is not None and left and z not in set(zones)]
    if absent:
        logger.warning("no %s sites in %s: the map extrapolates to those zones", " or ".join(absent), srdb_csv)
    if left >= n_splits:
        return
    removed = log.loc[log["removed"] > 0, ["step", "removed", "rows_left"]].values
    steps = "; ".join(f"{step}: -{int(n)} -> {int(k)}" for step, n, k in removed)
    raise SiteDataError(
        "too few sites left after the filters for the cross-validation",
        source="SRDB",
        file=str(srdb_csv),
        variable="Rh_annual",
        found=f"{left} site(s) of {int(log['rows_left'].iloc[0])} rows read ({steps or 'no rows removed'})",
        expected=f"at least {n_splits} sites (one per CV fold)",
    )


def _log_done(metrics: dict) -> None:
    """One INFO line with the data label, wall time, paper-style CV scores and the skill at
    unseen locations (location-grouped CV) of a finished product."""
    keys = ("data_label", "seconds", "r2", "nse", "rmse")
    text = "upscaling (%s) done in %.1f s: paper-style CV R2 %.3f NSE %.3f RMSE %.1f %s"
    args = [metrics[k] for k in keys] + [RH_UNITS]
    if metrics.get("location_grouped_r2") is None:
        text += "; location-grouped CV %s"
        args.append(metrics.get("location_grouped_cv", "not computed"))
    else:
        text += "; at unseen locations (location-grouped CV, %d locations) R2 %.3f NSE %.3f RMSE %.1f"
        args += [metrics[f"location_grouped_{k}"] for k in ("n_locations", "r2", "nse", "rmse")]
    logger.info(text, *args)


def _base_metrics(srdb_csv, stack, versions, site, y, zones, tuning, oof, settings, quick, seed) -> dict:
    """Provenance, label and CV content of ``cv_metrics.json``."""
    # the label is decided once, from the inputs, by upscaling.inputs.provenance: unlabelled is SYNTHETIC
    label = str((versions or {}).get("data_label", "SYNTHETIC"))
    return {
        **_provenance(srdb_csv, stack, label, versions),
        "n_obs": int(len(y)),
        "n_by_zone": {z: int((zones == z).sum()) for z in ZONES},
        **tuning.scores,
        "best": tuning.best,
        "grid": tuning.grid.to_dict(orient="records"),
        "n_splits": settings["n_splits"],
        "group_pca_r2": oof.attrs["group_pca_r2"],
        "predictors": list(site.X.columns),
        "ensemble": f"{len(tuning.models)} fold forests of the best configuration",
        "quick": quick,
        "seed": seed,
        "source": f"SRDB site Rh ({srdb_csv.name}), rhbench Random Forest upscaling",
    }


def _add_map(
    metrics: dict,
    site,
    oof: pd.DataFrame,
    tuning: forest.TuningResult,
    stack: PredictorStack,
    area_inputs: tuple[xr.DataArray | None, str, xr.DataArray | None],
    out_dir: Path,
) -> None:
    """Write ``site_cells.csv``, the map and totals; add sampling and totals to ``metrics``.
    ``area_inputs``: land fraction, its note, vegetation-class map (see :func:`run_upscaling`)."""
    land_fraction, land_fraction_note, classes = area_inputs
    metrics["sampling"] = site.cells
    cells = ["Latitude", "Longitude", "cell_lat", "cell_lon", "cell_status", "cell_distance_km"]
    _write_csv(oof[cells], out_dir / "site_cells.csv")
    attrs = _netcdf_attrs(metrics)
    totals = _map_product(tuning, stack, land_fraction, land_fraction_note, attrs, out_dir, classes)
    glob = totals.set_index("region").loc["global"]
    metrics["global_total_PgC_per_yr"] = float(glob["total_PgC_per_yr"])
    metrics["global_total_sd_PgC_per_yr"] = float(glob["sd_PgC_per_yr"])
    metrics["land_fraction"] = land_fraction_note if land_fraction is not None else NO_LAND_FRACTION
    metrics["totals"] = totals.to_dict(orient="records")


def _diagnose(
    site,
    y: np.ndarray,
    tuning: forest.TuningResult,
    stack: PredictorStack | None,
    seed: int,
    out_dir: Path,
    unseen: grouped.GroupedCV,
) -> pd.DataFrame:
    """Importance (fold forests), group importance, partial dependence (top six) and the
    out-of-fold table (paper-style and location-grouped held-out predictions, g C m-2 yr-1),
    written to ``out_dir``; returns the out-of-fold table (its ``attrs["group_pca_r2"]``
    holds the group forest's CV R2)."""
    columns = list(site.X.columns)
    importance = forest.fold_importance(tuning.models, columns)
    owner = column_groups(columns) if stack is not None else {c: g for g, cs in PREDICTOR_GROUPS.items() for c in cs}
    importance["group"] = importance["predictor"].map(owner)
    continuous, onehot = _groups(columns, stack)
    groups, group_r2 = forest.group_importance(
        site.X, y, continuous, tuning.fold, tuning.best, seed, categorical=onehot
    )
    model = forest.fit_forest(site.X, y, tuning.best, seed)
    pdp = forest.partial_dependence_table(model, site.X, importance["predictor"].head(N_PARTIAL_DEPENDENCE).tolist())
    keep = ["Record_number", "Study_number", "Latitude", "Longitude", "zone", "vegetation"]
    keep += ["cell_lat", "cell_lon", "cell_status", "cell_distance_km"] if stack is not None else []
    oof = site.sites.reindex(columns=keep).assign(fold=tuning.fold, observed=y, predicted=tuning.oof)
    oof = oof.assign(location=unseen.location, location_fold=unseen.fold, predicted_location_grouped=unseen.oof)
    _write_csv(importance, out_dir / "importance.csv")
    _write_csv(groups, out_dir / "group_importance.csv")
    _write_csv(pdp, out_dir / "partial_dependence.csv")
    _write_csv(oof, out_dir / "oof_predictions.csv")
    oof.attrs["group_pca_r2"] = group_r2
    return oof


def history(command: str) -> str:
    """CF ``history`` of a product: ``rhbench <version> <command>``, dated only by
    ``SOURCE_DATE_EPOCH`` (seconds since 1970, UTC) when set: no wall-clock time, so the
    same inputs and seed give the same bytes (the run's time is in ``run_log.json``)."""
    text = f"rhbench {rhbench.__version__} {command}"
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        text = f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(int(epoch)))} {text}"
    return text


def _netcdf_attrs(metrics: dict) -> dict:
    """Global attributes of ``rh_rf.nc``: labels, provenance and CV metrics (netCDF types)."""
    label = metrics["data_label"]
    attrs = {
        "title": f"Observation-based soil heterotrophic respiration ({label}): Random Forest upscaling of SRDB site Rh",
        "institution": "rhbench",
        "source": metrics["source"],
        "history": history("upscale"),
        "references": "He et al., Global Change Biology (manuscript); Jian et al. 2021 ESSD 13, 255-267 (SRDB v5)",
        "synthetic": int(metrics["synthetic"]),
        "seed": metrics["seed"],
        "n_obs": metrics["n_obs"],
        "cv_r2": metrics["r2"],
        "cv_nse": metrics["nse"],
        "cv_rmse_g_m-2_yr-1": metrics["rmse"],
        "cv_n_splits": metrics["n_splits"],
        "best_ntree": metrics["best"]["n_estimators"],
        "best_mtry": metrics["best"]["max_features"],
        "ensemble": metrics["ensemble"],
        "predictors": ", ".join(metrics["predictors"]),
    }
    unseen = {
        "location_grouped_cv_r2": metrics.get("location_grouped_r2"),
        "location_grouped_cv_nse": metrics.get("location_grouped_nse"),
        "location_grouped_cv_rmse_g_m-2_yr-1": metrics.get("location_grouped_rmse"),
        "location_grouped_cv_n_locations": metrics.get("location_grouped_n_locations"),
        "location_grouped_cv_n_splits": metrics.get("location_grouped_n_splits"),
        "location_grouped_cv": metrics.get("location_grouped_cv"),
    }
    attrs.update({k: v for k, v in unseen.items() if v is not None})  # None (not computed) is no netCDF type
    for key, value in metrics.items():
        if key.startswith(("srdb_", "predictors_", "data_label", "land_")) and isinstance(value, str | int | float):
            attrs[key] = value
    return attrs
