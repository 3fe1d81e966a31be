"""The page's Random Forest section: REAL/UNVERIFIED/SYNTHETIC label and data versions, CV scores, the
product map, CV scatter, importance, partial dependence and the site map (Fig. S2), read
from an ``rhbench upscale`` output folder."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
import xarray as xr

from rhbench.report import plots
from rhbench.report.fig_rf import UNSEEN_SCORES, cv_caption
from rhbench.report.sections import Page, img, missing

UPSCALING_FILES = ("cv_metrics.json", "importance.csv", "oof_predictions.csv", "partial_dependence.csv")


def rf_section(upscaling_dir: Path | None, page: Page) -> str:
    """HTML of the RF diagnostics, or a note saying which inputs are absent."""
    if upscaling_dir is None:
        return missing("No upscaling output given: run `rhbench upscale` to add this section.")
    folder = Path(upscaling_dir)
    if not folder.is_dir():
        return missing(f"Upscaling output folder not found: {folder}")
    parts, metrics = [], None
    if (folder / "cv_metrics.json").is_file():
        metrics = json.loads((folder / "cv_metrics.json").read_text(encoding="utf-8"))
        parts.append(_rf_label(metrics))
        parts.append(_unseen_skill(metrics))
        parts.append(_metrics_table(metrics))
    if (folder / "rh_rf.nc").is_file():
        parts.append(_rf_map(folder / "rh_rf.nc"))
    oof = _csv(folder, "oof_predictions.csv", ("observed", "predicted"))
    if oof is not None:
        parts.append(
            img(plots.rf_scatter(oof, metrics=metrics), "observed vs predicted Rh", "fig-rf-cv", "Paper Fig. 1b")
        )
        if {"Latitude", "Longitude"} <= set(oof.columns):
            group = "vegetation" if "vegetation" in oof else "zone"
            png = plots.site_map(oof, group=group, title=page.label("Rh sites used by the Random Forest"))
            parts.append(img(png, "site map", "fig-site-map", "Paper Fig. S2"))
    importance = _csv(folder, "importance.csv", ("predictor",))
    if importance is not None:
        importance = importance.rename(columns={"importance_percent": "importance_pct"})
        parts.append(img(plots.rf_importance(importance), "predictor importance", "fig-rf-importance", "Paper Fig. 1c"))
    pdp = _csv(folder, "partial_dependence.csv", ("predictor", "value", "rh"))
    if pdp is not None:
        parts.append(img(plots.rf_partial_dependence(pdp), "partial dependence", "fig-rf-pdp", "Paper Fig. S3"))
    absent = [name for name in UPSCALING_FILES if not (folder / name).is_file()]
    if absent:
        parts.append(missing(f"Missing from {folder}: {', '.join(absent)}"))
    if page.data_label != "REAL":
        parts.insert(0, f'<p class="synthetic-note">{html.escape(page.data_label)} data.</p>')
    return "\n".join(parts)


def _rf_label(metrics: Mapping) -> str:
    """REAL/UNVERIFIED/SYNTHETIC label of the RF product with its data versions (cv_metrics.json keys)."""
    label = str(metrics.get("data_label", "SYNTHETIC" if metrics.get("synthetic") else "unlabelled"))
    versions = [
        f"SRDB: {metrics.get('srdb_version', metrics.get('srdb_file', '?'))}",
        f"sha256 {str(metrics.get('srdb_sha256', '?'))[:12]}",
    ]
    if metrics.get("predictors_source"):
        versions.append(
            f"predictors: {metrics['predictors_source']} {str(metrics.get('predictors_version', ''))[:12]}, "
            f"sha256 {str(metrics.get('predictors_sha256', '?'))[:12]}"
        )
    if metrics.get("global_total_PgC_per_yr") is not None:
        versions.append(
            f"global Rh {metrics['global_total_PgC_per_yr']:.1f} +- {metrics.get('global_total_sd_PgC_per_yr', 0):.1f}"
            " Pg C yr-1 (SD of the ensemble members' totals)"
        )
    text = html.escape("; ".join(versions))
    return f'<p class="data-label"><strong>{html.escape(label)}</strong> data — {text}</p>'


def _unseen_skill(metrics: Mapping) -> str:
    """The product's skill at unseen locations (location-grouped CV) beside its paper-style
    CV scores, or a note saying it was not computed (an older product, too few locations)."""
    unseen = cv_caption(metrics, UNSEEN_SCORES) if metrics.get("location_grouped_r2") is not None else ""
    paper = cv_caption(metrics)
    if not unseen:
        why = metrics.get("location_grouped_cv", "not in this product's cv_metrics.json")
        return f'<p class="cv-unseen">skill at unseen locations (location-grouped CV): {html.escape(str(why))}</p>'
    text = (
        f"<strong>skill at unseen locations (location-grouped CV)</strong>: {html.escape(unseen)} "
        f"(RMSE in g C m-2 yr-1; every row of one location in one fold). Paper-style CV (folds over rows, "
        f"as in the paper, the headline score): {html.escape(paper)}."
    )
    n_obs, n_locations = metrics.get("n_obs"), metrics.get("location_grouped_n_locations")
    if isinstance(n_obs, int) and isinstance(n_locations, int) and n_locations < n_obs:
        text += (
            f" The {n_obs} rows come from {n_locations} locations: in the paper-style CV a held-out row "
            "can have a row of its own location (same predictors) in training; the map predicts mostly "
            "cells without any site, so its skill there is nearer the location-grouped score."
        )
    return f'<p class="cv-unseen">{text}</p>'


def _rf_map(path: Path) -> str:
    """The RF product's mean and SD maps (g C m-2 yr-1), titled with its data label."""
    with xr.open_dataset(path, engine="netcdf4") as product:
        label = str(product.attrs.get("data_label", ""))
        panels = {"Rh, RF ensemble mean": product["rh"].load(), "Rh, SD across members": product["rh_sd"].load()}
    png = plots.map_panels(panels, units="g C m-2 yr-1", title=f"Random Forest Rh product ({label})", ncols=2)
    return img(png, f"RF Rh map ({label})", "fig-rf-map", "Paper Fig. 1a")


def _csv(folder: Path, name: str, columns: tuple[str, ...]) -> pd.DataFrame | None:
    path = folder / name
    if not path.is_file():
        return None
    frame = pd.read_csv(path)
    absent = [c for c in columns if c not in frame.columns]
    if absent:
        raise ValueError(f"{path} lacks columns {absent}; found {list(frame.columns)}")
    return frame


def _metrics_table(metrics: Mapping) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_fmt(v))}</td></tr>"
        for k, v in metrics.items()
        if not isinstance(v, list | dict)
    )
    caption = "cross-validation (r2, nse, rmse: paper-style, folds over rows; location_grouped_*: folds over locations)"
    return f'<table class="kv"><caption>{caption}</caption>{rows}</table>'


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str | int):
        return str(value)
    return json.dumps(value, default=str)
