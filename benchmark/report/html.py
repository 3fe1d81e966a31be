"""The static scorecard page ``index.html``: one self-contained file, no network.

Figures are embedded as base64 PNG data URIs; a few lines of inline JavaScript make the
tables sortable. Sections: summary grid, Taylor diagrams, global bars, maps, zonal means,
2-box series, Random Forest diagnostics and a provenance footer. A section whose inputs
are absent says so; a section whose drawing fails shows the error (and logs it) so that
one bad input does not lose the rest of the report.

Conventions read from the scorecard (those of :mod:`rhbench.metrics.suite`):

- observation rows have ``kind`` in :data:`REFERENCE_KINDS`; the uncertainty of an
  observed global metric ``M`` is the reference row ``M_sd``;
- Taylor points use ``{prefix}_taylor_r`` and ``{prefix}_taylor_normalized_sd``, else
  ``{prefix}_taylor_sd`` divided by the reference's ``{prefix}_taylor_sd``;
- datasets ``maps`` (source, lat, lon), ``zonal`` (source, lat) with an optional
  ``kind`` coordinate on ``source``, and ``twobox`` (source, year) with variables
  ``{var}_unconstrained``, ``{var}_constrained`` and ``{var}_constrained_sd``.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import json
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import xarray as xr

from rhbench.fileops import write_text_atomic
from rhbench.report import plots

log = logging.getLogger(__name__)

INDEX_HTML = "index.html"
REFERENCE_KINDS = frozenset({"reference"})
#: Global metrics drawn as bar charts (when present in the scorecard).
BAR_METRICS = ("rh_global", "tau_soil_global", "tau_veg_global")
#: Taylor-diagram metric prefixes.
TAYLOR_PREFIXES = ("rh", "tau_soil")
#: Map variables drawn (when present); ``*_bias`` ones on a diverging scale.
MAP_VARIABLES = ("rh", "rh_bias", "tau_soil", "tau_bias")
#: 2-box quantities drawn (when present).
TWOBOX_VARIABLES = ("dcTotal", "dcSoil", "dcVeg", "cTotal")
SYNTHETIC_BANNER = "SYNTHETIC DEMO DATA — not a scientific result"
UPSCALING_FILES = (
    "cv_metrics.json",
    "importance.csv",
    "oof_predictions.csv",
    "partial_dependence.csv",
)


def write_index_html(
    out_dir: Path,
    scorecard: pd.DataFrame,
    datasets: Mapping[str, xr.Dataset],
    *,
    synthetic: bool,
    provenance: Mapping,
    upscaling_dir: Path | None = None,
    observations: Mapping[str, tuple[float, float | None]] | None = None,
) -> Path:
    """Write the static scorecard page ``out_dir/index.html`` and return its path.

    Parameters
    ----------
    out_dir: output folder (created if needed).
    scorecard: score rows as from :func:`rhbench.report.tables.read_scorecard`
        (columns source, kind, metric, region, units, value, status, reason).
    datasets: named datasets of the run (``maps``, ``zonal``, ``twobox``); any may be absent.
    synthetic: show the synthetic-data banner and label every figure as synthetic.
    provenance: run record (versions, plugins, inputs, config...) shown in the footer.
    upscaling_dir: output folder of ``rhbench upscale`` for the RF diagnostics, or None.
    observations: metric -> (observed value, 1-SD uncertainty) for the bar charts, in the
        metric's units; default: the scorecard's reference rows.
    """
    page = _Page(scorecard, datasets, synthetic=synthetic, observations=observations)
    sections = [
        ("summary", "Summary grid", page.summary_grid),
        ("taylor", "Taylor diagrams", page.taylor),
        ("global", "Global totals and turnover times", page.bars),
        ("maps", "Maps", page.maps),
        ("zonal", "Zonal means", page.zonal),
        ("twobox", "2-box model: carbon change before and after the constraint", page.twobox),
        ("rf", "Random Forest Rh product diagnostics", lambda: _rf_section(upscaling_dir, page)),
    ]
    body = [_section(anchor, title, build) for anchor, title, build in sections]
    document = _document(body, sections, provenance, synthetic)
    path = Path(out_dir) / INDEX_HTML
    write_text_atomic(path, document)
    return path


# --- page assembly ------------------------------------------------------------------


def _section(anchor: str, title: str, build: Callable[[], str]) -> str:
    try:
        content = build()
    except Exception as exc:  # one broken section must not lose the page
        log.exception("report section %r failed", anchor)
        content = _missing(f"This section could not be drawn: {type(exc).__name__}: {exc}")
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>\n{content}\n</section>'


def _missing(text: str) -> str:
    return f'<p class="missing">{html.escape(text)}</p>'


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}"></figure>'


def _document(body: list[str], sections: list, provenance: Mapping, synthetic: bool) -> str:
    title = "rhbench scorecard" + (" (synthetic demo data)" if synthetic else "")
    banner = f'<div class="banner">{SYNTHETIC_BANNER}</div>' if synthetic else ""
    nav = " · ".join(f'<a href="#{a}">{html.escape(t.split(":")[0])}</a>' for a, t, _ in sections)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{_CSS}</style></head>
<body>
{banner}
<header><h1>{html.escape(title)}</h1><nav>{nav}</nav></header>
<main>
{chr(10).join(body)}
</main>
{_footer(provenance, synthetic)}
<script>{_JS}</script>
</body></html>
"""


def _footer(provenance: Mapping, synthetic: bool) -> str:
    record = dict(provenance)
    record.setdefault("generated", dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    record["synthetic"] = synthetic
    items = []
    for key, value in record.items():
        if isinstance(value, str | int | float | bool) or value is None:
            shown = html.escape(str(value))
        else:
            text = json.dumps(value, indent=1, default=str, sort_keys=True)
            shown = f"<pre>{html.escape(text)}</pre>"
        items.append(f"<dt>{html.escape(str(key))}</dt><dd>{shown}</dd>")
    return f'<footer id="provenance"><h2>Provenance</h2><dl>{"".join(items)}</dl></footer>'


# --- sections -----------------------------------------------------------------------


class _Page:
    """The inputs of one page and the builders of its data sections."""

    def __init__(
        self,
        scorecard: pd.DataFrame,
        datasets: Mapping[str, xr.Dataset],
        *,
        synthetic: bool,
        observations: Mapping | None,
    ) -> None:
        self.scores = scorecard
        self.datasets = datasets
        self.synthetic = synthetic
        self.observations = observations

    def label(self, title: str) -> str:
        """A figure title, marked synthetic when the data are."""
        return f"{title} (synthetic)" if self.synthetic else title

    def summary_grid(self) -> str:
        if self.scores.empty:
            return _missing("No scorecard rows: the scorecard is empty or missing.")
        return summary_table(self.scores)

    def taylor(self) -> str:
        parts = []
        for prefix in TAYLOR_PREFIXES:
            stats = taylor_points(self.scores, prefix)
            if stats.empty:
                parts.append(_missing(f"No {prefix}_taylor_* rows: no {prefix} Taylor diagram."))
                continue
            png = plots.taylor_diagram(stats, title=self.label(f"{prefix} vs reference"), ref_label="reference")
            parts.append(_img(png, f"Taylor diagram of {prefix}"))
        return "\n".join(parts)

    def bars(self) -> str:
        parts = []
        for metric in BAR_METRICS:
            rows = self.scores[(self.scores["metric"] == metric) & (self.scores["region"] == "global")]
            models = rows[~rows["kind"].isin(REFERENCE_KINDS) & (rows["status"] == "ok")]
            if models.empty:
                parts.append(_missing(f"No {metric} values: no bar chart of {metric}."))
                continue
            obs, obs_sd = self._observation(metric)
            png = plots.global_bars(
                models.set_index("source")["value"],
                units=str(models["units"].iloc[0]),
                kinds=models.set_index("source")["kind"],
                obs=obs,
                obs_sd=obs_sd,
                title=self.label(metric),
                obs_label="observation",
            )
            parts.append(_img(png, f"bar chart of {metric}"))
        return "\n".join(parts)

    def _observation(self, metric: str) -> tuple[float | None, float | None]:
        if self.observations is not None:
            return tuple(self.observations.get(metric, (None, None)))
        ref = self.scores[
            self.scores["kind"].isin(REFERENCE_KINDS)
            & (self.scores["status"] == "ok")
            & (self.scores["region"] == "global")
        ]
        value = ref.loc[ref["metric"] == metric, "value"]
        sd = ref.loc[ref["metric"] == f"{metric}_sd", "value"]
        return (
            float(value.iloc[0]) if len(value) else None,
            float(sd.iloc[0]) if len(sd) else None,
        )

    def maps(self) -> str:
        maps = self.datasets.get("maps")
        if maps is None:
            return _missing("No maps dataset in this run.")
        names = [n for n in MAP_VARIABLES if n in maps.data_vars] or [
            n for n, v in maps.data_vars.items() if {"source", "lat", "lon"} <= set(v.dims)
        ]
        if not names:
            return _missing("The maps dataset holds no (source, lat, lon) variables.")
        parts = []
        kinds = _source_kinds(maps)
        for name in names:
            diverging = name.endswith(("_bias", "_diff"))
            panels = {}
            for source in _ordered_sources(kinds):
                if diverging and kinds[source] in REFERENCE_KINDS:
                    continue
                label = f"{source} (reference)" if kinds[source] in REFERENCE_KINDS else source
                panels[label] = maps[name].sel(source=source)
            units = str(maps[name].attrs.get("units", ""))
            png = plots.map_panels(panels, units=units, title=self.label(name), diverging=diverging)
            parts.append(_img(png, f"maps of {name}"))
        return "\n".join(parts)

    def zonal(self) -> str:
        zonal = self.datasets.get("zonal")
        if zonal is None:
            return _missing("No zonal dataset in this run.")
        kinds = _source_kinds(zonal)
        reference = next((s for s, k in kinds.items() if k in REFERENCE_KINDS), None)
        parts = []
        for name, var in zonal.data_vars.items():
            if set(var.dims) != {"source", "lat"}:
                continue
            png = plots.zonal_means(
                var,
                units=str(var.attrs.get("units", "")),
                title=self.label(f"zonal mean {name}"),
                reference=reference,
            )
            parts.append(_img(png, f"zonal means of {name}"))
        return "\n".join(parts) or _missing("The zonal dataset holds no (source, lat) variables.")

    def twobox(self) -> str:
        ds = self.datasets.get("twobox")
        if ds is None:
            return _missing("No 2-box dataset in this run.")
        stems = [
            v for v in TWOBOX_VARIABLES if f"{v}_unconstrained" in ds.data_vars and f"{v}_constrained" in ds.data_vars
        ]
        if not stems:
            return _missing("The 2-box dataset lacks *_unconstrained / *_constrained variables.")
        extra = [d for d in ds[f"{stems[0]}_constrained"].dims if d not in ("source", "year")]
        for dim in extra:  # e.g. region: draw the global series
            ds = ds.sel({dim: "global"}) if "global" in ds[dim] else ds.isel({dim: 0})
        parts = []
        for var in stems:
            units = str(ds[f"{var}_constrained"].attrs.get("units", "Pg C"))
            png = plots.twobox_series(ds, var=var, units=units, title=self.label(f"{var} since the first year"))
            parts.append(_img(png, f"2-box series of {var}"))
        return "\n".join(parts)


def _source_kinds(ds: xr.Dataset) -> dict[str, str]:
    sources = [str(s) for s in ds["source"].to_numpy()]
    if "kind" in ds.coords:
        return dict(zip(sources, (str(k) for k in ds["kind"].to_numpy()), strict=True))
    return dict.fromkeys(sources, "")


def _ordered_sources(kinds: Mapping[str, str]) -> list[str]:
    return sorted(kinds, key=lambda s: (kinds[s] not in REFERENCE_KINDS, kinds[s] != "dgvm", s))


def taylor_points(scorecard: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Taylor-diagram points (source, r, sd_norm) of the non-reference sources.

    Parameters
    ----------
    scorecard: score rows.
    prefix: metric prefix (``rh`` or ``tau_soil``).

    Returns
    -------
    DataFrame with columns source, r (1) and sd_norm (1); empty when the rows are absent.
    """
    ok = scorecard[(scorecard["status"] == "ok") & (scorecard["region"] == "global")]
    wide = ok.pivot_table(index="source", columns="metric", values="value", aggfunc="first")
    kinds = ok.drop_duplicates("source").set_index("source")["kind"]
    r_col, norm_col, sd_col = (f"{prefix}_taylor_{k}" for k in ("r", "normalized_sd", "sd"))
    if r_col not in wide:
        return pd.DataFrame(columns=["source", "r", "sd_norm"])
    if norm_col in wide:
        sd_norm = wide[norm_col]
    else:
        refs = [s for s in wide.index if kinds.get(s) in REFERENCE_KINDS]
        if sd_col not in wide or not refs or not wide.loc[refs[0], sd_col] > 0:
            return pd.DataFrame(columns=["source", "r", "sd_norm"])
        sd_norm = wide[sd_col] / wide.loc[refs[0], sd_col]
    points = pd.DataFrame({"r": wide[r_col], "sd_norm": sd_norm})
    points = points[[kinds.get(s) not in REFERENCE_KINDS for s in points.index]].dropna()
    return points.rename_axis("source").reset_index()


# --- summary grid -------------------------------------------------------------------


def summary_table(scorecard: pd.DataFrame) -> str:
    """HTML table: one row per source, one column per global metric.

    ``*_score`` cells are coloured from red (0) to green (1); failed and skipped cells are
    grey and show the reason on hover. Only ``global`` rows are shown.
    """
    rows = scorecard[scorecard["region"] == "global"]
    metrics = sorted(rows["metric"].unique(), key=lambda m: (not m.endswith("_score"), m))
    kinds = rows.drop_duplicates("source").set_index("source")["kind"]
    sources = _ordered_sources(kinds.to_dict())
    cells = {(r.source, r.metric): r for r in rows.itertuples(index=False)}
    units = rows.drop_duplicates("metric").set_index("metric")["units"]
    head = "".join(f'<th title="{html.escape(str(units[m]))}">{html.escape(m)}</th>' for m in metrics)
    lines = [f'<table class="sortable grid"><thead><tr><th>source</th><th>kind</th>{head}</tr></thead><tbody>']
    for source in sources:
        tds = "".join(_grid_cell(cells.get((source, m))) for m in metrics)
        lines.append(f"<tr><th>{html.escape(source)}</th><td>{html.escape(kinds[source])}</td>{tds}</tr>")
    lines.append("</tbody></table>")
    return "\n".join(lines)


def _grid_cell(row) -> str:
    if row is None:
        return '<td class="na" data-v="">·</td>'
    if row.status != "ok" or not math.isfinite(row.value):
        tip = html.escape(f"{row.status}: {row.reason}")
        return f'<td class="na" data-v="" title="{tip}">{html.escape(row.status)}</td>'
    style = ""
    if row.metric.endswith("_score"):
        hue = 120 * min(max(row.value, 0.0), 1.0)
        style = f' style="background:hsl({hue:.0f},70%,80%)"'
    return f'<td data-v="{row.value!r}"{style}>{row.value:.4g}</td>'


# --- Random Forest diagnostics ------------------------------------------------------


def _rf_section(upscaling_dir: Path | None, page: _Page) -> str:
    if upscaling_dir is None:
        return _missing("No upscaling output given: run `rhbench upscale` to add this section.")
    folder = Path(upscaling_dir)
    if not folder.is_dir():
        return _missing(f"Upscaling output folder not found: {folder}")
    parts = []
    metrics = None
    if (folder / "cv_metrics.json").is_file():
        metrics = json.loads((folder / "cv_metrics.json").read_text(encoding="utf-8"))
        parts.append(_rf_label(metrics))
        parts.append(_metrics_table({k: v for k, v in metrics.items() if not isinstance(v, list | dict)}))
    if (folder / "rh_rf.nc").is_file():
        parts.append(_rf_map(folder / "rh_rf.nc"))
    oof = _csv(folder, "oof_predictions.csv", ("observed", "predicted"))
    if oof is not None:
        scalar = {k: (metrics or {})[k] for k in ("n_obs", "r2", "nse", "rmse") if k in (metrics or {})}
        parts.append(_img(plots.rf_scatter(oof, metrics=scalar), "observed vs predicted Rh"))
    importance = _csv(folder, "importance.csv", ("predictor",))
    if importance is not None:
        importance = importance.rename(columns={"importance_percent": "importance_pct"})
    if importance is not None:
        parts.append(_img(plots.rf_importance(importance), "predictor importance"))
    pdp = _csv(folder, "partial_dependence.csv", ("predictor", "value", "rh"))
    if pdp is not None:
        parts.append(_img(plots.rf_partial_dependence(pdp), "partial dependence"))
    absent = [name for name in UPSCALING_FILES if not (folder / name).is_file()]
    if absent:
        parts.append(_missing(f"Missing from {folder}: {', '.join(absent)}"))
    if page.synthetic:
        parts.insert(0, '<p class="synthetic-note">Synthetic demo data.</p>')
    return "\n".join(parts)


def _rf_label(metrics: Mapping) -> str:
    """REAL/SYNTHETIC label of the RF product with its data versions (cv_metrics.json keys)."""
    label = str(metrics.get("data_label", "SYNTHETIC" if metrics.get("synthetic") else "unlabelled"))
    versions = [
        f"SRDB: {metrics.get('srdb_version', metrics.get('srdb_file', '?'))}",
        f"sha256 {str(metrics.get('srdb_sha256', '?'))[:12]}",
    ]
    if metrics.get("predictors_source"):
        versions.append(
            f"predictors: {metrics['predictors_source']} {metrics.get('predictors_version', '')[:12]}, "
            f"sha256 {str(metrics.get('predictors_sha256', '?'))[:12]}"
        )
    if metrics.get("global_total_PgC_per_yr") is not None:
        versions.append(
            f"global Rh {metrics['global_total_PgC_per_yr']:.1f} +- {metrics.get('global_total_sd_PgC_per_yr', 0):.1f}"
            " Pg C yr-1 (SD of the ensemble members' totals)"
        )
    return f'<p class="data-label"><strong>{html.escape(label)}</strong> data — {html.escape("; ".join(versions))}</p>'


def _rf_map(path: Path) -> str:
    """The RF product's mean and SD maps (g C m-2 yr-1), titled with its data label."""
    with xr.open_dataset(path) as product:
        label = str(product.attrs.get("data_label", ""))
        panels = {"Rh, RF ensemble mean": product["rh"].load(), "Rh, SD across members": product["rh_sd"].load()}
    png = plots.map_panels(panels, units="g C m-2 yr-1", title=f"Random Forest Rh product ({label})", ncols=2)
    return _img(png, f"RF Rh map ({label})")


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


_CSS = """
body{font-family:system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header,main,footer{padding:0 1.5rem}
.banner{background:#b00020;color:#fff;font-size:1.8rem;font-weight:bold;text-align:center;
padding:.8rem;position:sticky;top:0;z-index:10}
section{background:#fff;margin:1rem 0;padding:.5rem 1rem;border:1px solid #ddd;overflow-x:auto}
figure{margin:.5rem 0;display:inline-block}img{max-width:100%}
.missing{color:#8a6d3b;background:#fcf8e3;padding:.4rem .6rem;border-left:4px solid #e0c36a}
table{border-collapse:collapse;font-size:.8rem}th,td{border:1px solid #ddd;padding:2px 5px}
.grid td{text-align:right}.grid td.na{color:#888;background:#eee;text-align:center}
table.sortable thead th{cursor:pointer;background:#f0f0f0;position:sticky;top:0}
footer dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 1rem;font-size:.8rem}
footer pre{margin:0;white-space:pre-wrap}
"""

_JS = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('thead th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var dir = th.dataset.dir === 'asc' ? -1 : 1; th.dataset.dir = dir > 0 ? 'asc' : 'desc';
      function key(row) {
        var cell = row.cells[col], v = cell.dataset.v;
        return v === undefined ? cell.textContent : (v === '' ? NaN : parseFloat(v));
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (typeof x === 'number' || typeof y === 'number') {
          if (isNaN(x)) return 1; if (isNaN(y)) return -1; return dir * (x - y);
        }
        return dir * String(x).localeCompare(String(y));
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""
