"""The static scorecard page ``index.html``: one self-contained file, no network.

Figures are embedded as base64 PNG data URIs, each a ``<figure id="fig-...">``, drawn in
process or by the page workers of ``rhbench run`` (:mod:`rhbench.report.workers`); a few
lines of inline JavaScript (:mod:`rhbench.report.page_assets`) sort and filter the summary
grid and switch the per-model view. A table of contents links every section and figure.
A section whose inputs are absent says so; a section whose drawing fails shows the error
(and logs it) so that one bad input does not lose the rest of the report.

Sections are built by :mod:`rhbench.report.sections` (core benchmark figures),
:mod:`rhbench.report.sections_paper` (the paper's figures) and
:mod:`rhbench.report.section_rf` (Random Forest diagnostics). Conventions read from the
scorecard are those of :mod:`rhbench.metrics.suite`: observation rows have kind
``reference`` and the uncertainty of an observed global metric ``M`` is its row ``M_sd``;
``ensemble_mean`` / ``ensemble_sd`` rows have kind ``ensemble``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import xarray as xr

from rhbench import datalabel
from rhbench.fileops import write_text_atomic
from rhbench.report import manifest, page_sections, workers
from rhbench.report.page_assets import CSS, JS
from rhbench.report.page_sections import PageInputs
from rhbench.results import UPSCALING_DIR, RunRecord

log = logging.getLogger(__name__)

INDEX_HTML = manifest.INDEX_HTML  # one of the gated outputs


def __getattr__(name: str) -> Callable[[pd.DataFrame, str], pd.DataFrame]:
    """``taylor_points`` (public API), imported on use: the builders import matplotlib."""
    if name == "taylor_points":
        from rhbench.report.sections import taylor_points

        return taylor_points
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    datasets: named datasets of the run (``maps``, ``zonal``, ``twobox``, ``observations``);
        any may be absent.
    synthetic: the data are SYNTHETIC (used when ``provenance`` has no ``data``); data that are
        not REAL get a banner and every figure their label (SYNTHETIC or UNVERIFIED).
    provenance: run record (versions, plugins, inputs, config...) shown in the footer.
    upscaling_dir: output folder of ``rhbench upscale`` for the RF diagnostics, or None.
    observations: metric -> (observed value, 1-SD uncertainty) for the bar charts, in the
        metric's units; default: the scorecard's reference rows.
    """
    label = datalabel.of(provenance.get("data"), synthetic)["data_label"]
    inputs = PageInputs(scorecard, dict(datasets), synthetic, observations, upscaling_dir, label)
    built = {anchor: page_sections.build(inputs, anchor) for anchor, _ in page_sections.SECTIONS}
    return _write_page(out_dir, built, provenance, synthetic)


def _write_page(out_dir: Path, built: Mapping[str, str], provenance: Mapping, synthetic: bool) -> Path:
    """Write ``index.html`` from the built sections (anchor -> ``<section>`` HTML)."""
    body = [(anchor, title, built[anchor]) for anchor, title in page_sections.SECTIONS]
    document = _document(body, provenance, synthetic)
    path = Path(out_dir) / INDEX_HTML
    write_text_atomic(path, document)
    return path


def start_page(
    out_dir: Path,
    scorecard: pd.DataFrame,
    datasets: Mapping[str, xr.Dataset],
    *,
    synthetic: bool,
    provenance: Mapping,
    upscaling_dir: Path | None = None,
) -> Callable[[], Path]:
    """:func:`write_index_html` with the figures drawn by the page workers when they run
    (:mod:`rhbench.report.workers`): starts them and returns the function that waits for
    the sections and writes the page (in process, the page is drawn by that function)."""
    label = datalabel.of(provenance.get("data"), synthetic)["data_label"]
    inputs = PageInputs(scorecard, dict(datasets), synthetic, None, upscaling_dir, label)
    pool = workers.take()
    if pool is None:
        return lambda: write_index_html(
            out_dir, scorecard, datasets, synthetic=synthetic, provenance=provenance, upscaling_dir=upscaling_dir
        )
    finish = pool.render(inputs, page_sections.CLAIM_ORDER, page_sections.build)
    return lambda: _write_page(out_dir, finish(), provenance, synthetic)


def _toc(body: list[tuple[str, str, str]]) -> str:
    """Table of contents: every section and, under it, the ids of its figures."""
    items = []
    for anchor, title, content in body:
        figures = re.findall(r'<figure id="([^"]+)">.*?alt="([^"]*)"', content)
        sub = "".join(f'<li><a href="#{f}">{html.escape(alt)}</a></li>' for f, alt in figures)
        items.append(f'<li><a href="#{anchor}">{html.escape(title)}</a>{f"<ul>{sub}</ul>" if sub else ""}</li>')
    items.append('<li><a href="#provenance">Provenance</a></li>')
    return f'<nav class="toc" id="toc"><strong>Contents</strong><ol>{"".join(items)}</ol></nav>'


def banner(data: Mapping) -> str:
    """The page's warning banner for data that are not REAL (e.g. ``SYNTHETIC DEMO DATA — not
    a scientific result``), '' for REAL data."""
    if data.get("data_label") == datalabel.REAL:
        return ""
    meaning = datalabel.headline(dict(data)).partition(": ")[2]
    return f'<div class="banner">{html.escape(datalabel.short(dict(data)).upper())} — {html.escape(meaning)}</div>'


def data_line(data: Mapping) -> str:
    """The line under the page title naming the data label and versions, as the CLI prints it
    (``REAL data: SRDB-V5 v20200511, Jian2020-predictors c0072c0, land-fraction v20200511``):
    every page says what its numbers were made of, REAL ones too (they get no banner)."""
    return f'<p class="data-label" id="data-label">{html.escape(datalabel.summary(dict(data)))}</p>'


def _document(body: list[tuple[str, str, str]], provenance: Mapping, synthetic: bool) -> str:
    data = datalabel.of(provenance.get("data"), synthetic)
    title = "rhbench scorecard" + (f" ({datalabel.short(data)})" if data["data_label"] != datalabel.REAL else "")
    sections = "\n".join(content for _, _, content in body)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>{CSS}</style></head>
<body>
{banner(data)}
<header><h1>{html.escape(title)}</h1>{data_line(data)}{_toc(body)}</header>
<main>
{sections}
</main>
{_footer(provenance, synthetic)}
<script>{JS}</script>
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


def write_run(run: RunRecord) -> Callable[[], Path]:
    """Writer of ``index.html`` from the run's scorecard, datasets and provenance (:data:`rhbench.outputs.WRITERS`).

    Returns the function that finishes the page (:func:`start_page`): the figures are drawn
    by the page workers, when they run, while the other writers write.
    """
    from rhbench.report.tables import SCORECARD_JSON, read_scorecard

    upscaling = run.staging / UPSCALING_DIR
    scorecard = read_scorecard(run.staging / SCORECARD_JSON)
    scorecard.attrs = {}  # unused by the page (it shows run.provenance), and pandas copies attrs on every operation
    return start_page(
        run.staging,
        scorecard,
        run.results.datasets,
        synthetic=run.synthetic,
        provenance=run.provenance,
        upscaling_dir=upscaling if upscaling.is_dir() else None,
    )
