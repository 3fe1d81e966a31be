"""The page's Random Forest section: CV scores, CV scatter, importance, partial dependence
and the site map (Fig. S2), read from an ``rhbench upscale`` output folder."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from rhbench.report import plots
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
        parts.append(_metrics_table(metrics))
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
    if page.synthetic:
        parts.insert(0, '<p class="synthetic-note">SYNTHETIC demo data.</p>')
    return "\n".join(parts)


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
        if not isinstance(v, list)
    )
    return f'<table class="kv"><caption>cross-validation</caption>{rows}</table>'


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str | int):
        return str(value)
    return json.dumps(value, default=str)
