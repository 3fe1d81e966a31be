"""Shared figure machinery: Agg figures without pyplot state, PNG bytes, styles, legends.

Every figure function of the report returns its PNG as ``bytes``; figures use
``constrained_layout`` so that labels and legends outside the axes are never clipped, except
those whose labels are fixed strings, placed by :func:`fixed_margins` (cheaper to draw).
"""

from __future__ import annotations

import io
from pathlib import Path

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

#: Resolution of saved figures (dots per inch).
DPI = 85
#: zlib level of the PNG encoder: 3 encodes the page's figures in about half the time of
#: Pillow's default 6 and, on these flat-coloured figures, into no larger files (lossless).
PNG_COMPRESS_LEVEL = 3
#: Colours by source kind (DGVMs vs observation-based products vs the reference).
KIND_COLOURS = {"dgvm": "#4c72b0", "reference": "#222222", "ensemble": "#55a868"}
OTHER_KIND_COLOUR = "#dd8452"
#: Colours of the 2-box series before and after the turnover-time constraint.
UNCONSTRAINED, CONSTRAINED = "#4c72b0", "#dd8452"
#: Colour of observations in every figure.
OBS_COLOUR = "black"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
#: Legend entries per column before a legend gets another column.
LEGEND_ROWS = 18
#: Gap between an axes and its outside legend (axes widths), and room right of the legend (inches).
_LEGEND_GAP, _RIGHT_PAD = 0.02, 0.1


def new_figure(width: float, height: float, *, layout: str | None = "constrained") -> Figure:
    """A figure of ``width`` x ``height`` inches on its own Agg canvas."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout=layout)
    FigureCanvasAgg(fig)
    return fig


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes at :data:`DPI`."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, pil_kwargs={"compress_level": PNG_COMPRESS_LEVEL})
    return buffer.getvalue()


def write_png(data: bytes, path: Path | str) -> Path:
    """Write PNG ``data`` to ``path`` (folders created) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def message_figure(text: str, width: float = 5.0, height: float = 1.2) -> bytes:
    """A small PNG figure, ``width`` x ``height`` inches, that only says ``text`` (an absent input)."""
    fig = new_figure(width, height)
    fig.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color="#555555")
    return png(fig)


def styles(n: int) -> list[dict]:
    """``n`` distinct (colour, marker) styles: 10 colours x 10 markers, unique up to 100."""
    cmap = colormaps["tab10"]
    return [{"color": cmap(i % 10), "marker": _MARKERS[(i // 10 + i) % len(_MARKERS)]} for i in range(n)]


def palette(n: int) -> list:
    """``n`` colours of :func:`styles` (for lines, where markers are not drawn)."""
    return [style["color"] for style in styles(n)]


def line_styles(n: int) -> list[dict]:
    """``n`` distinct (colour, line style) pairs for line plots: 10 colours x 4 styles."""
    dashes = ("-", "--", ":", "-.")
    return [{"color": colormaps["tab10"](i % 10), "linestyle": dashes[(i // 10) % 4]} for i in range(n)]


def legend_outside(ax: Axes, n_entries: int, *, fontsize: float = 7, title: str | None = None) -> None:
    """A legend to the right of ``ax`` with one column per :data:`LEGEND_ROWS` entries (``fontsize`` in points)."""
    ax.legend(
        loc="upper left",
        bbox_to_anchor=(1 + _LEGEND_GAP, 1.0),
        fontsize=fontsize,
        frameon=False,
        ncols=max(1, -(-n_entries // LEGEND_ROWS)),
        title=title,
        title_fontsize=fontsize,
    )


def fixed_margins(fig: Figure, ax: Axes, *, left: float, bottom: float, top: float, square: bool = False) -> None:
    """Place ``ax`` at ``left``/``bottom``/``top`` margins (inches) in a figure without a layout
    engine, its :func:`legend_outside` legend (measured) to its right.

    For figures whose labels are fixed strings (the Taylor diagram, zonal profiles):
    constrained layout measures every artist twice per figure, ~40 % of drawing such a
    figure; here only the legend is measured. ``square``: as tall as wide (a polar axes).
    """
    width, height = fig.get_size_inches()
    legend = ax.get_legend()
    legend_inches = legend.get_window_extent(fig.canvas.get_renderer()).width / fig.dpi if legend else 0.0
    axes_width = (width - left - legend_inches - _RIGHT_PAD) / (1 + _LEGEND_GAP)
    axes_height = height - bottom - top
    if square:
        axes_width = axes_height = min(axes_width, axes_height)
    ax.set_position((left / width, bottom / height, axes_width / width, axes_height / height))


def legend_width(n_entries: int, longest: int) -> float:
    """Approximate width in inches of a :func:`legend_outside` legend (7 pt font)."""
    columns = max(1, -(-n_entries // LEGEND_ROWS))
    return columns * (0.45 + 0.065 * longest)
