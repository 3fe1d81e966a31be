"""The page's sections: their order and titles, and building one of them from the page's inputs.

Light to import (the builders, and with them matplotlib, are imported when a section is
built), so that the run can assemble the page while worker processes
(:mod:`rhbench.report.workers`) draw its figures. :func:`build` is the one way a section is
made, in the run's process or in a worker.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

log = logging.getLogger("rhbench.report.html")

#: The page's sections in page order: (anchor, title).
SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary grid"),
    ("models", "Per-model view"),
    ("ensemble", "Multi-model mean ± SD"),
    ("taylor", "Taylor diagrams"),
    ("global", "Global totals and turnover times"),
    ("regions", "Vegetation types and climate zones"),
    ("attribution", "τ_soil bias: Rh or cSoil?"),
    ("maps", "Maps"),
    ("zonal", "Zonal means"),
    ("observations", "Observation products"),
    ("twobox", "2-box model: carbon change before and after the constraint"),
    ("emulation", "2-box emulation check and per-class constraint"),
    ("rf", "Random Forest Rh product diagnostics"),
)
#: The order in which workers claim sections: the costliest first (many map panels, many
#: lines), so that the last ones to finish are short.
CLAIM_ORDER: tuple[str, ...] = (
    "maps",
    "observations",
    "zonal",
    "rf",
    "twobox",
    "attribution",
    "ensemble",
    "emulation",
    "regions",
    "taylor",
    "global",
    "models",
    "summary",
)


@dataclass(frozen=True)
class PageInputs:
    """What the sections are built from (see :func:`rhbench.report.html.write_index_html`)."""

    scorecard: pd.DataFrame
    datasets: dict
    synthetic: bool
    observations: dict | None = None
    upscaling_dir: Path | None = None
    #: REAL, UNVERIFIED or SYNTHETIC (:mod:`rhbench.datalabel`); '' means: from ``synthetic``.
    data_label: str = ""


def _builders(inputs: PageInputs) -> dict:
    from rhbench.report.section_rf import rf_section
    from rhbench.report.sections import Page
    from rhbench.report.sections_paper import PaperSections

    page = Page(
        inputs.scorecard,
        inputs.datasets,
        synthetic=inputs.synthetic,
        observations=inputs.observations,
        data_label=inputs.data_label,
    )
    paper = PaperSections(page)
    return {
        "summary": page.summary_grid,
        "models": page.models,
        "ensemble": paper.ensemble,
        "taylor": page.taylor,
        "global": page.bars,
        "regions": paper.regions,
        "attribution": paper.attribution,
        "maps": page.maps,
        "zonal": page.zonal,
        "observations": paper.observations,
        "twobox": page.twobox,
        "emulation": paper.emulation,
        "rf": lambda: rf_section(inputs.upscaling_dir, page),
    }


def build(inputs: PageInputs, anchor: str) -> str:
    """The ``<section>`` of ``anchor``; a section whose drawing fails shows the error (and logs it)."""
    from rhbench.report.sections import missing

    title = dict(SECTIONS)[anchor]
    try:
        content = _builders(inputs)[anchor]()
    except Exception as exc:  # one broken section must not lose the page
        log.exception("report section %r failed", anchor)
        content = missing(f"This section could not be drawn: {type(exc).__name__}: {exc}")
    content = _labelled_alts(content, inputs.data_label or ("SYNTHETIC" if inputs.synthetic else "REAL"))
    return f'<section id="{anchor}"><h2>{html.escape(title)}</h2>\n{content}\n</section>'


def _labelled_alts(content: str, label: str) -> str:
    """``content`` with the data label on every figure's alt text (what a screen reader and the
    contents list read) when it is not REAL, as on the figures' own titles."""
    if label == "REAL":
        return content
    return re.sub(
        r'alt="([^"]*)"', lambda m: m.group(0) if label in m.group(1) else f'alt="{m.group(1)} ({label})"', content
    )


def warm() -> None:
    """Import every builder (matplotlib included), load the coastlines and draw one small
    figure (fonts, the Agg renderer), so that the page workers have loaded them before the
    run's page is drawn.

    Drawing whole sections from a made-up page as well (as before session 7) saved the page
    ~0.02 s for ~0.16 s of CPU: a loss whenever the run's own work needs the second core.
    """
    from rhbench.geography import coastlines
    from rhbench.report import section_rf, sections, sections_paper  # noqa: F401
    from rhbench.report.figure import message_figure

    coastlines()
    message_figure("warm-up")
