"""Builders of the page's data sections: summary, Taylor diagrams, global bars, maps,
zonal means and 2-box series. Each returns an HTML fragment; every figure is a
``<figure id="fig-...">`` so that it can be linked and found (see the README's table of
figures)."""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import xarray as xr

from rhbench.constraint import TAU_VEG_OBS
from rhbench.report import plots
from rhbench.report.summary_grid import label, model_view, summary_table

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

REFERENCE_KINDS = frozenset({"reference"})
#: Global metrics drawn as bar charts (when present in the scorecard): metric -> quantity.
BAR_METRICS = {"rh_global": "global Rh", "tau_soil_global": "global τ_soil", "tau_veg_global": "global τ_veg"}
#: Taylor-diagram metric prefixes.
TAYLOR_PREFIXES = ("rh", "tau_soil")
#: Map variables drawn (when present); ``*_bias`` ones on a diverging scale, ``tau_*`` on a log one.
MAP_VARIABLES = ("rh", "rh_bias", "tau_soil", "tau_bias", "tau_veg")
#: 2-box quantities drawn (changes since each model's first year).
TWOBOX_VARIABLES = ("dcTotal", "dcSoil", "dcVeg")


def missing(text: str) -> str:
    """A visible note that a figure or section has no input."""
    return f'<p class="missing">{html.escape(text)}</p>'


def has_values(*arrays: ArrayLike) -> bool:
    """True when any of ``arrays`` (array-likes) holds a finite value: a figure of only
    missing values (e.g. turnover maps of a run without a cSoil product) is not drawn."""
    return any(np.isfinite(np.asarray(a, dtype=float)).any() for a in arrays)


def img(png: bytes, alt: str, fig_id: str, caption: str = "") -> str:
    """An embedded PNG figure with its id and caption."""
    data = base64.b64encode(png).decode("ascii")
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure id="{fig_id}"><img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">{cap}</figure>'


def map_years(ds: xr.Dataset, name: str, sources: list[str]) -> dict[str, str]:
    """Source -> the years of its ``name`` map where they are not the run's period (the coordinate the
    variable's ``years`` attribute names, :mod:`rhbench.metrics.map_years`); {} when not stated."""
    coord = ds[name].attrs.get("years")
    if not coord or coord not in ds.coords:
        return {}
    texts = {str(s): str(t) for s, t in zip(ds["source"].values, ds[coord].values, strict=True)}
    return {s: texts[s] for s in sources if s in texts and texts[s] and texts[s] != ds.attrs.get("period")}


def years_caption(ds: xr.Dataset, name: str, sources: list[str]) -> str:
    """A caption saying the years of the ``name`` maps of ``sources`` ("" when ``ds`` does not state them)."""
    if not ds[name].attrs.get("years"):
        return ""
    head = f"Years: period means over {ds.attrs.get('period', 'the benchmark period')}"
    other = map_years(ds, name, sources)
    if not other:
        return f"{head} for every panel."
    listed = " | ".join(f"{s}: {t}" for s, t in other.items())
    return f"{head}, except (the years their rows use, or the years the source has): {listed}."


def panel_name(source: str, years: Mapping[str, str]) -> str:
    """``source``'s panel title, with its years when they are not the period (see :func:`map_years`)."""
    text = years.get(source)
    if text is None:
        return source
    return f"{source} ({text})" if ";" not in text else f"{source} (years: see caption)"


def source_kinds(ds: xr.Dataset) -> dict[str, str]:
    """source -> kind from a dataset's ``kind`` coordinate ('' without one)."""
    sources = [str(s) for s in ds["source"].to_numpy()]
    if "kind" in ds.coords:
        return dict(zip(sources, (str(k) for k in ds["kind"].to_numpy()), strict=True))
    return dict.fromkeys(sources, "")


def ordered_sources(kinds: Mapping[str, str]) -> list[str]:
    """Reference first, then ensemble, DGVMs, other products; alphabetical within a kind."""
    rank = {"reference": 0, "ensemble": 1, "dgvm": 2}
    return sorted(kinds, key=lambda s: (rank.get(kinds[s], 3), s))


def taylor_points(scorecard: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Taylor-diagram points (source, r, sd_norm) of the DGVMs and products.

    Returns a DataFrame with columns source, r (1) and sd_norm (1); empty when the rows are
    absent. Reference and ensemble rows are left out.
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
    shown = [kinds.get(s) not in REFERENCE_KINDS and kinds.get(s) != "ensemble" for s in points.index]
    return points[shown].dropna().rename_axis("source").reset_index()


class Page:
    """The inputs of one page and the builders of its core data sections."""

    def __init__(
        self,
        scorecard: pd.DataFrame,
        datasets: Mapping[str, xr.Dataset],
        *,
        synthetic: bool,
        observations: Mapping | None = None,
        data_label: str = "",
    ) -> None:
        self.scores = scorecard
        self.datasets = datasets
        self.synthetic = synthetic
        self.observations = observations
        #: REAL, UNVERIFIED or SYNTHETIC (:mod:`rhbench.datalabel`): from ``synthetic`` when not given
        self.data_label = data_label or ("SYNTHETIC" if synthetic else "REAL")

    def label(self, title: str) -> str:
        """A figure title, marked with the data label when the data are not REAL."""
        return title if self.data_label == "REAL" else f"{title} ({self.data_label})"

    def observation(self, metric: str) -> tuple[float | None, float | None]:
        """(observed value, 1-SD) of a global metric from the reference rows (or the override)."""
        if self.observations is not None:
            return tuple(self.observations.get(metric, (None, None)))
        if metric == "tau_veg_global":  # no observed litterfall product: the published value
            return TAU_VEG_OBS
        ref = self.scores[
            self.scores["kind"].isin(REFERENCE_KINDS)
            & (self.scores["status"] == "ok")
            & (self.scores["region"] == "global")
        ]
        value, sd = (ref.loc[ref["metric"] == m, "value"] for m in (metric, f"{metric}_sd"))
        return (float(value.iloc[0]) if len(value) else None, float(sd.iloc[0]) if len(sd) else None)

    def summary_grid(self) -> str:
        if self.scores.empty:
            return missing("No scorecard rows: the scorecard is empty or missing.")
        hint = (
            "<p>Key global numbers; click a header to sort, hover a cell for its note, a source for all its "
            'rows. <input id="grid-filter" placeholder="filter sources"></p>'
        )
        return hint + summary_table(self.scores)

    def models(self) -> str:
        if self.scores.empty:
            return missing("No scorecard rows.")
        return model_view(self.scores)

    def taylor(self) -> str:
        parts = []
        for prefix in TAYLOR_PREFIXES:
            stats = taylor_points(self.scores, prefix)
            if stats.empty:
                parts.append(missing(f"No {prefix}_taylor_* rows: no {prefix} Taylor diagram."))
                continue
            png = plots.taylor_diagram(
                stats, title=self.label(f"{label(prefix)} maps vs reference"), ref_label="reference"
            )
            parts.append(img(png, f"Taylor diagram of {prefix}", f"fig-taylor-{prefix}", "Paper Fig. 2c-d"))
        return "\n".join(parts)

    def bars(self) -> str:
        parts = []
        for metric, quantity in BAR_METRICS.items():
            rows = self.scores[(self.scores["metric"] == metric) & (self.scores["region"] == "global")]
            models = rows[rows["kind"].isin(("dgvm", "rh")) & (rows["status"] == "ok")]
            if models.empty:
                parts.append(missing(f"No {metric} values: no bar chart of {metric}."))
                continue
            obs, obs_sd = self.observation(metric)
            png = plots.global_bars(
                models.set_index("source")["value"],
                units=f"{quantity} ({models['units'].iloc[0]})",
                kinds=models.set_index("source")["kind"],
                obs=obs,
                obs_sd=obs_sd,
                title=self.label(quantity),
                obs_label="He et al. 2021" if metric == "tau_veg_global" else "observation",
            )
            parts.append(img(png, f"bar chart of {metric}", f"fig-bars-{metric}"))
        return "\n".join(parts)

    def maps(self) -> str:
        maps = self.datasets.get("maps")
        if maps is None:
            return missing("No maps dataset in this run.")
        names = [n for n in MAP_VARIABLES if n in maps.data_vars]
        if not names:
            return missing("The maps dataset holds none of " + ", ".join(MAP_VARIABLES))
        kinds, parts = source_kinds(maps), []
        for name in names:
            diverging = name.endswith(("_bias", "_diff"))
            shown = [s for s in ordered_sources(kinds) if not (diverging and kinds[s] in REFERENCE_KINDS)]
            if name == "tau_veg":  # no observed litterfall map; Rh products have no cVeg: no empty panels
                shown = [s for s in shown if has_values(maps[name].sel(source=s))]
            years = map_years(maps, name, shown)
            panels = {
                panel_name(s, years) + (" (reference)" if kinds[s] in REFERENCE_KINDS else ""): maps[name].sel(source=s)
                for s in shown
            }
            if not has_values(*panels.values()):
                parts.append(missing(f"No {name} values in this run: no maps of {name}."))
                continue
            units = f"{label(name)} ({maps[name].attrs.get('units', '')})"
            log = name.startswith("tau") and not diverging
            png = plots.map_panels(panels, units=units, title=self.label(label(name)), diverging=diverging, log=log)
            parts.append(img(png, f"maps of {name}", f"fig-maps-{name}", years_caption(maps, name, shown)))
        return "\n".join(parts)

    def zonal(self) -> str:
        zonal = self.datasets.get("zonal")
        if zonal is None:
            return missing("No zonal dataset in this run.")
        kinds = source_kinds(zonal)
        reference = next((s for s, k in kinds.items() if k in REFERENCE_KINDS), None)
        parts = []
        for name, var in zonal.data_vars.items():
            if set(var.dims) != {"source", "lat"}:
                continue
            if name != "rh":  # Rh products carry the observed cSoil: their lines would only repeat it
                var = var.sel(source=[s for s in var["source"].values if kinds[str(s)] != "rh"])
            if not has_values(var):
                parts.append(missing(f"No {name} values in this run: no zonal means of {name}."))
                continue
            png = plots.zonal_means(
                var,
                units=f"{label(name)} ({var.attrs.get('units', '')})",
                title=self.label(f"zonal mean {label(name)}"),
                reference=reference,
                band=self._zonal_band(name, var, reference),
                log=name.startswith("tau"),
            )
            drawn = [str(s) for s in var["source"].values]
            caption = " ".join(filter(None, ["Paper Fig. 2b.", years_caption(zonal, name, drawn)]))
            parts.append(img(png, f"zonal means of {name}", f"fig-zonal-{name}", caption))
        return "\n".join(parts) or missing("The zonal dataset holds no (source, lat) variables.")

    def _zonal_band(self, name: str, var: xr.DataArray, reference: str | None):
        """(low, high) zonal uncertainty of the observation: RF SD for Rh, the cSoil
        products' spread (SD, ddof=1) for cSoil and, relatively, for tau_soil."""
        obs = self.datasets.get("observations")
        if obs is None or reference is None:
            return None
        line = var.sel(source=reference)
        if name == "rh" and "rh_sd" in obs:
            sd = obs["rh_sd"].mean("lon")
            return line - sd, line + sd
        if name in ("csoil", "tau_soil") and "csoil_zonal" in obs and obs.sizes.get("product", 0) > 1:
            rel = obs["csoil_zonal"].std("product", ddof=1) / obs["csoil_zonal"].mean("product")
            return line * (1 - rel), line * (1 + rel)
        return None

    def twobox(self) -> str:
        ds = self.datasets.get("twobox")
        if ds is None:
            return missing("No 2-box dataset in this run.")
        stems = [v for v in TWOBOX_VARIABLES if {f"{v}_unconstrained", f"{v}_constrained"} <= set(ds.data_vars)]
        if not stems:
            return missing("The 2-box dataset lacks *_unconstrained / *_constrained variables.")
        for dim in [d for d in ds[f"{stems[0]}_constrained"].dims if d not in ("source", "year")]:
            ds = ds.sel({dim: "global"}) if "global" in ds[dim] else ds.isel({dim: 0})  # draw the global series
        parts = []
        for var in stems:
            units = str(ds[f"{var}_constrained"].attrs.get("units", "Pg C"))
            title = self.label(f"{var}: change since each model's first year")
            png = plots.twobox_series(ds, var=var, units=units, title=title)
            caption = f"Paper Fig. 4b. {ds.attrs['monte_carlo']}." if ds.attrs.get("monte_carlo") else "Paper Fig. 4b"
            parts.append(img(png, f"2-box series of {var}", f"fig-twobox-{var}", caption))
        return "\n".join(parts)


def finite(values: ArrayLike) -> np.ndarray:
    """Finite values of an array-like, as float."""
    array = np.asarray(values, dtype=float)
    return array[np.isfinite(array)]
