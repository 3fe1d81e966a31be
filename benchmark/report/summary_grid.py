"""The summary grid (one row per source, the key global numbers with readable headers and
units, sortable, coloured) and the per-model view (every global row of one source)."""

from __future__ import annotations

import html
import math
import re

import pandas as pd

#: Readable header of each key metric of the grid, in column order (metric -> label).
SUMMARY_COLUMNS: dict[str, str] = {
    "rh_taylor_score": "Rh score",
    "tau_soil_taylor_score": "τ_soil score",
    "rh_global": "global Rh",
    "rh_taylor_bias": "Rh bias",
    "tau_soil_global": "τ_soil",
    "tau_bias_pct": "τ_soil bias",
    "tau_bias_rh_dominated_area_pct": "area where Rh bias dominates",
    "tau_veg_global": "τ_veg",
    "csoil_global": "cSoil",
    "cveg_global": "cVeg",
    "rh_taylor_r": "Rh r",
    "dcTotal_unconstrained": "dcTotal unconstrained",
    "dcTotal_constrained": "dcTotal constrained",
    "underestimation_pct": "under-estimate",
    "emulation_r2": "2-box emulation r²",
}
#: Readable names of other metric and variable ids.
LABELS: dict[str, str] = {
    "rh": "Rh",
    "csoil": "cSoil + cLitter",
    "tau_soil": "τ_soil",
    "rh_bias": "Rh − observed",
    "tau_bias": "τ_soil − observed",
}
#: Kinds in display order.
KIND_ORDER = ("reference", "ensemble", "dgvm", "rh")


def is_score(metric: str) -> bool:
    """Scores are 0..1, higher is better (coloured red -> green)."""
    return metric.endswith("_score") or metric == "emulation_r2"


def is_bias(metric: str) -> bool:
    """Biases are signed deviations from the observations (coloured blue - white - red)."""
    return "bias" in metric or metric == "underestimation_pct"


def label(metric: str) -> str:
    """A readable name for any metric id (``tau_soil_global`` -> ``τ_soil global``)."""
    if metric in SUMMARY_COLUMNS or metric in LABELS:
        return SUMMARY_COLUMNS.get(metric) or LABELS[metric]
    return metric.replace("tau_", "τ_").replace("_pct", " (%)").replace("_", " ").replace("τ ", "τ_")


def anchor(source: str) -> str:
    """The HTML id of a source's card in the per-model view."""
    return "model-" + re.sub(r"[^A-Za-z0-9_-]", "_", source)


def _order(rows: pd.DataFrame) -> list[str]:
    kinds = rows.drop_duplicates("source").set_index("source")["kind"].to_dict()
    rank = {k: i for i, k in enumerate(KIND_ORDER)}
    return sorted(kinds, key=lambda s: (rank.get(kinds[s], len(rank)), s))


def _colour(metric: str, value: float, scale: float, source: str = "") -> str:
    if source == "ensemble_sd":  # a spread across models, neither a score nor a bias
        return ""
    if is_score(metric):
        return f' style="background:hsl({120 * min(max(value, 0.0), 1.0):.0f},70%,80%)"'
    if is_bias(metric) and scale > 0:
        strength = min(abs(value) / scale, 1.0)
        hue = 0 if value > 0 else 220
        return f' style="background:hsl({hue},70%,{97 - 22 * strength:.0f}%)"'
    return ""


def _cell(row, scale: float) -> str:
    if row is None:
        return '<td class="na" data-v="">·</td>'
    if row.status != "ok" or not math.isfinite(row.value):
        tip = html.escape(f"{row.status}: {row.reason}")
        return f'<td class="na" data-v="" title="{tip}">{html.escape(row.status)}</td>'
    tip = f' title="{html.escape(row.reason)}"' if row.reason else ""
    return f'<td data-v="{row.value!r}"{_colour(row.metric, row.value, scale, row.source)}{tip}>{row.value:.4g}</td>'


def summary_table(scorecard: pd.DataFrame, columns: dict[str, str] | None = None) -> str:
    """HTML table: one row per source (linked to its card), one column per key global metric.

    Headers are readable names with units; click a header to sort. Sources the run did not use
    (every row ``absent``) are named, with the reason on hover, in one line under the table. Score cells are coloured
    red (0) to green (1); bias cells blue (negative) to red (positive), scaled by the
    column's largest magnitude; failed and skipped cells are grey and show the reason on
    hover. Metrics outside ``columns`` (default :data:`SUMMARY_COLUMNS`) are in the
    per-model view.
    """
    rows = scorecard[scorecard["region"] == "global"]
    absent = _absent_sources(rows)
    rows = rows[~rows["source"].isin(absent)]
    wanted = columns or SUMMARY_COLUMNS
    present = set(rows["metric"])
    metrics = [m for m in wanted if m in present]
    kinds = rows.drop_duplicates("source").set_index("source")["kind"]
    cells = {(r.source, r.metric): r for r in rows.itertuples(index=False)}
    units = rows.drop_duplicates("metric").set_index("metric")["units"]
    scales = _largest_magnitudes(rows, metrics)
    head = "".join(
        f'<th title="{html.escape(m)}">{html.escape(label(m))}<br><small>{html.escape(_unit(units[m]))}</small></th>'
        for m in metrics
    )
    lines = [f'<table id="summary-grid" class="sortable grid"><thead><tr><th>source</th><th>kind</th>{head}</tr>']
    lines.append("</thead><tbody>")
    for source in _order(rows):
        tds = "".join(_cell(cells.get((source, m)), float(scales[m] or 0)) for m in metrics)
        link = f'<a href="#{anchor(source)}">{html.escape(source)}</a>'
        lines.append(
            f'<tr data-source="{html.escape(source)}"><th>{link}</th><td>{html.escape(kinds[source])}</td>{tds}</tr>'
        )
    lines.append("</tbody></table>")
    if absent:
        named = ", ".join(
            f'<a href="#{anchor(name)}" title="{html.escape(reason)}">{html.escape(name)}</a>'
            for name, reason in absent.items()
        )
        lines.append(f'<p class="absent-sources">Not in this run (absent, hover for why): {named}</p>')
    return "\n".join(lines)


def _absent_sources(rows: pd.DataFrame) -> dict[str, str]:
    """Sources whose only rows are ``absent`` (a product or DGVM without files in the data root,
    or not selected), with the reason: named under the grid, not given a row of empty cells."""
    status = rows.groupby("source")["status"].agg(set)
    absent = sorted(name for name, seen in status.items() if seen == {"absent"})
    reasons = rows[rows["status"] == "absent"].drop_duplicates("source").set_index("source")["reason"]
    return {name: str(reasons.get(name, "")) for name in absent}


def _largest_magnitudes(rows: pd.DataFrame, metrics: list[str]) -> dict[str, float]:
    """Each metric's largest |value| over its ``ok`` rows (NaN when it has none), in one pass."""
    ok = rows[rows["status"] == "ok"]
    largest = ok["value"].abs().groupby(ok["metric"]).max()
    return {m: largest.get(m, float("nan")) for m in metrics}


def _unit(units: str) -> str:
    return "" if units in ("", "1") else units


def model_view(scorecard: pd.DataFrame) -> str:
    """Per-model view: a chooser and one card per source with all its global rows.

    Each card has the id :func:`anchor` of its source (link ``#model-NAME``); the chooser
    shows one card at a time without network access (inline script, CSS ``:target``).
    """
    rows = scorecard[scorecard["region"] == "global"]
    sources = _order(rows)
    options = "".join(f'<option value="{anchor(s)}">{html.escape(s)}</option>' for s in sources)
    parts = [f'<label>Model: <select id="model-select"><option value="">choose…</option>{options}</select></label>']
    for source in sources:
        own = rows[rows["source"] == source]
        body = "".join(
            f"<tr><th>{html.escape(label(r.metric))}</th><td>{html.escape(_unit(r.units))}</td>"
            f'{_cell(r, 0.0)}<td class="reason">{html.escape(r.reason)}</td></tr>'
            for r in own.itertuples(index=False)
        )
        parts.append(
            f'<div class="model-card" id="{anchor(source)}"><h3>{html.escape(source)}</h3>'
            f'<table class="kv"><tr><th>metric</th><th>units</th><th>value</th><th>note</th></tr>{body}</table></div>'
        )
    return "\n".join(parts)
