"""The report's figures, one module per family; every function returns PNG ``bytes``.

- :mod:`rhbench.report.figure`: shared machinery (Agg figures, PNG bytes, styles, legends);
- :mod:`rhbench.report.fig_taylor`: Taylor diagram;
- :mod:`rhbench.report.fig_bars`: global bars, regional bars, constrained vs unconstrained,
  multi-model mean +- SD;
- :mod:`rhbench.report.fig_maps`: map small multiples (linear, log, categorical), site map;
- :mod:`rhbench.report.fig_series`: zonal means, 2-box series, emulation check, deviations;
- :mod:`rhbench.report.fig_rf`: Random Forest diagnostics.

This module names them in one place for the page (:mod:`rhbench.report.html`).
"""

from __future__ import annotations

from rhbench.report.fig_bars import constraint_bars, ensemble_panels, global_bars, region_bars
from rhbench.report.fig_maps import _colour_limits, coastline_segments, map_panels, site_map
from rhbench.report.fig_rf import rf_importance, rf_partial_dependence, rf_scatter
from rhbench.report.fig_series import deviation_scatter, emulation_scatter, twobox_series, zonal_means
from rhbench.report.fig_taylor import taylor_diagram
from rhbench.report.figure import DPI, write_png

__all__ = [
    "DPI",
    "_colour_limits",
    "coastline_segments",
    "constraint_bars",
    "deviation_scatter",
    "emulation_scatter",
    "ensemble_panels",
    "global_bars",
    "map_panels",
    "region_bars",
    "rf_importance",
    "rf_partial_dependence",
    "rf_scatter",
    "site_map",
    "taylor_diagram",
    "twobox_series",
    "write_png",
    "zonal_means",
]
