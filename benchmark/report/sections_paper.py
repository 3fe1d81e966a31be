"""Builders of the page's paper-figure sections: multi-model mean +- SD, vegetation types
and climate zones, tau_soil bias attribution, observation products and the 2-box
emulation and per-class constraint. Figure ids and paper figures are listed in the README."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from rhbench.constraint import TAU_VEG_OBS
from rhbench.report import plots
from rhbench.report.sections import Page, has_values, img, missing, source_kinds, years_caption
from rhbench.results import ENSEMBLE_MEAN as ENSEMBLE
from rhbench.results import ENSEMBLE_SD, PRODUCTS_MEAN, PRODUCTS_SD
from rhbench.vegclass import CLASS_NAMES

ZONES = ("tropical", "temperate", "boreal")
ATTRIBUTION_CATEGORIES = {1: "Rh bias dominates", 2: "cSoil bias dominates"}
ENSEMBLE_TITLE = "DGVM ensemble and prior Rh products: mean ± 1 SD across each"


class PaperSections:
    """Builders of the paper-figure sections of one :class:`Page`."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.scores = page.scores

    def _value(self, source: str, metric: str, region: str = "global") -> float:
        rows = self.scores[
            (self.scores["source"] == source)
            & (self.scores["metric"] == metric)
            & (self.scores["region"] == region)
            & (self.scores["status"] == "ok")
        ]
        return float(rows["value"].iloc[0]) if len(rows) else np.nan

    def _reference(self) -> str | None:
        refs = self.scores.loc[self.scores["kind"] == "reference", "source"]
        return str(refs.iloc[0]) if len(refs) else None

    def ensemble(self) -> str:
        """Multi-model mean +- SD bars and the ensemble-mean tau_soil difference map (Fig. 3b);
        a note instead when fewer than two DGVMs make the ensemble (its mean is that model and
        its SD undefined: the model's own figures say it all)."""
        ok = self.scores[(self.scores["kind"] == "dgvm") & (self.scores["status"] == "ok")]
        n_models = ok["source"].nunique()
        if n_models == 1:
            return missing(
                "Ensemble of one DGVM: no multi-model figure (it needs at least two DGVMs; "
                "the ensemble_mean rows repeat that model's values)."
            )
        ref = self._reference()
        items = []
        for metric, quantity, units in (
            ("rh_global", "global Rh", "Pg C yr-1"),
            ("tau_soil_global", "τ_soil", "yr"),
            ("tau_veg_global", "τ_veg", "yr"),
        ):
            obs = (self._value(ref, metric), self._value(ref, f"{metric}_sd")) if ref else (np.nan, np.nan)
            if metric == "tau_veg_global":
                obs = TAU_VEG_OBS
            bars = [("observation", *obs)] if np.isfinite(obs[0]) else []
            products = (self._value(PRODUCTS_MEAN, metric), self._value(PRODUCTS_SD, metric))
            bars += [("Rh products mean", *products)] if np.isfinite(products[0]) else []
            bars.append(("DGVM mean", self._value(ENSEMBLE, metric), self._value(ENSEMBLE_SD, metric)))
            items.append({"label": quantity, "units": units, "bars": bars})
        for pool in ("dcVeg", "dcSoil", "dcTotal"):
            bars = [
                (s, self._value(ENSEMBLE, f"{pool}_{s}"), self._value(ENSEMBLE_SD, f"{pool}_{s}"))
                for s in ("unconstrained", "constrained")
            ]
            items.append({"label": f"{pool} since 1901", "units": "Pg C", "bars": bars})
        items = [i for i in items if np.isfinite(i["bars"][-1][1])]  # the DGVM (constrained) bar
        if not items:
            return missing("No ensemble_mean rows: no multi-model summary.")
        parts = [
            img(
                plots.ensemble_panels(items, title=self.page.label(ENSEMBLE_TITLE)),
                "multi-model mean bars",
                "fig-ensemble-bars",
                "Multi-model mean ± SD (paper Sect. 3.2-3.4)",
            )
        ]
        maps = self.page.datasets.get("maps")
        if maps is not None and ENSEMBLE in maps["source"].values and "tau_bias" in maps:
            panel = {"DGVM ensemble mean − observation": maps["tau_bias"].sel(source=ENSEMBLE)}
            png = plots.map_panels(
                panel,
                units="τ_soil difference (yr)",
                diverging=True,
                ncols=1,
                title=self.page.label("ensemble-mean τ_soil difference"),
            )
            caption = " ".join(filter(None, ["Paper Fig. 3b.", years_caption(maps, "tau_bias", [ENSEMBLE])]))
            parts.append(img(png, "ensemble tau difference map", "fig-tau-diff-ensemble", caption))
        return "\n".join(parts)

    def regions(self) -> str:
        """Per-vegetation-type and per-zone bars of Rh and tau_soil (observation, DGVMs)."""
        parts = []
        for metric, quantity, fig_id in (
            ("rh_mean", "mean Rh", "fig-regions-rh"),
            ("tau_soil", "τ_soil", "fig-regions-tau"),
        ):
            rows = self.scores[(self.scores["metric"] == metric) & (self.scores["status"] == "ok")]
            order = [r for r in (*ZONES, *CLASS_NAMES) if r in set(rows["region"])]
            if rows.empty or not order:
                parts.append(missing(f"No {metric} rows per vegetation type or zone."))
                continue
            wide = rows.pivot_table(index="region", columns="source", values="value", aggfunc="first").reindex(order)
            ref = self._reference()
            table = pd.DataFrame(
                {
                    "observation": wide.get(ref, np.nan),
                    "ensemble_mean": wide.get(ENSEMBLE, np.nan),
                    "ensemble_sd": wide.get(ENSEMBLE_SD, np.nan),
                },
                index=order,
            )
            dgvms = sorted(set(rows.loc[rows["kind"] == "dgvm", "source"]))
            units = f"{quantity} ({rows['units'].iloc[0]})"
            png = plots.region_bars(
                table,
                wide[dgvms] if dgvms else None,
                units=units,
                title=self.page.label(f"{quantity} per climate zone and vegetation type"),
            )
            parts.append(img(png, f"{metric} per region", fig_id, "Paper Fig. 2a, 3a"))
        return "\n".join(parts)

    def attribution(self) -> str:
        """Tau_soil bias attribution maps (Fig. S13) and the Rh-vs-tau deviation scatter (Fig. S12)."""
        parts = []
        maps = self.page.datasets.get("maps")
        if maps is not None and "attribution" in maps and not has_values(maps["attribution"]):
            parts.append(missing("No attribution values in this run (it needs an observed τ_soil)."))
        elif maps is not None and "attribution" in maps:
            kinds = source_kinds(maps)
            shown = [s for s in (ENSEMBLE, *sorted(s for s, k in kinds.items() if k == "dgvm")) if s in kinds]
            share = self._value(ENSEMBLE, "tau_bias_rh_dominated_area_pct")
            title = f"dominant cause of the τ_soil bias; Rh dominates {share:.0f} % of the vegetated area (ensemble)"
            png = plots.map_panels(
                {s: maps["attribution"].sel(source=s) for s in shown},
                units="dominant bias",
                categories=ATTRIBUTION_CATEGORIES,
                title=self.page.label(title),
            )
            caption = f"Paper Fig. S13 (62 % in the paper). {years_caption(maps, 'attribution', shown)}".strip()
            parts.append(img(png, "tau bias attribution maps", "fig-attribution-map", caption))
        else:
            parts.append(missing("No attribution maps in this run."))
        ref = self._reference()
        dgvm = self.scores[(self.scores["kind"] == "dgvm") & (self.scores["region"] == "global")]
        points = pd.DataFrame({"source": sorted(set(dgvm["source"]))})
        if ref is not None:
            for metric, column in (("rh_global", "rh_dev_pct"), ("tau_soil_global", "tau_dev_pct")):
                obs = self._value(ref, metric)
                points[column] = [100.0 * (self._value(s, metric) / obs - 1.0) for s in points["source"]]
            if not has_values(points["rh_dev_pct"] + points["tau_dev_pct"]):
                parts.append(missing("No DGVM with both Rh and τ_soil deviations: no deviation scatter."))
                return "\n".join(parts)
            png = plots.deviation_scatter(points, title=self.page.label("DGVM deviations from the observations"))
            parts.append(img(png, "Rh vs tau deviation scatter", "fig-deviation-scatter", "Paper Fig. S12"))
        return "\n".join(parts)

    def observations(self) -> str:
        """Each cSoil product's map and zonal profile (Fig. S6) and the RF ensemble SD (Fig. S4)."""
        obs = self.page.datasets.get("observations")
        if obs is None:
            return missing("No observation products in this run.")
        parts = []
        if "csoil" in obs and not has_values(obs["csoil"]):
            parts.append(missing("No cSoil product in this run: no soil carbon maps or zonal means."))
        elif "csoil" in obs:
            panels = {str(p): obs["csoil"].sel(product=p) for p in obs["product"].values}
            png = plots.map_panels(
                panels,
                units="cSoil + cLitter (kg C m-2)",
                log=True,
                title=self.page.label("soil carbon products (0-1 m)"),
            )
            parts.append(img(png, "cSoil product maps", "fig-csoil-products", "Paper Fig. S6a"))
            zonal = obs["csoil_zonal"].rename(product="source")
            mean = zonal.mean("source").expand_dims(source=["mean of products"])
            png = plots.zonal_means(
                xr.concat([zonal, mean], dim="source"),
                units="cSoil + cLitter (kg C m-2)",
                reference="mean of products",
                title=self.page.label("zonal mean soil carbon"),
            )
            parts.append(img(png, "cSoil product zonal means", "fig-csoil-zonal", "Paper Fig. S6b"))
        if "rh_sd" in obs:
            png = plots.map_panels(
                {"RF ensemble SD": obs["rh_sd"]},
                units="Rh SD (g C m-2 yr-1)",
                ncols=1,
                title=self.page.label("uncertainty of the Random Forest Rh product"),
            )
            parts.append(img(png, "RF ensemble SD map", "fig-rf-sd-map", "Paper Fig. S4"))
        else:
            parts.append(missing("The reference Rh has no ensemble SD map (rh_sd)."))
        return "\n".join(parts)

    def emulation(self) -> str:
        """DGVM vs emulated dcTotal (Fig. 4a) and constrained vs unconstrained per class (Fig. S9)."""
        ds = self.page.datasets.get("twobox")
        if ds is None:
            return missing("No 2-box dataset in this run.")
        parts = []
        glob = ds.sel(region="global") if "region" in ds.dims else ds
        if {"dcTotal_dgvm", "dcTotal_unconstrained"} <= set(glob.data_vars):
            r2 = {s: self._value(s, "emulation_r2") for s in glob["source"].values}
            png = plots.emulation_scatter(glob, r2=r2, title=self.page.label("2-box emulation check"))
            parts.append(img(png, "DGVM vs emulated dcTotal", "fig-emulation", "Paper Fig. 4a"))
        rows = self.scores[
            (self.scores["source"] == ENSEMBLE) & (self.scores["status"] == "ok") & (self.scores["region"] != "global")
        ]
        wide = rows.pivot_table(index="region", columns="metric", values="value", aggfunc="first")
        if {"dcTotal_unconstrained", "dcTotal_constrained"} <= set(wide.columns):
            table = pd.DataFrame(
                {
                    "unconstrained": wide["dcTotal_unconstrained"],
                    "constrained": wide["dcTotal_constrained"],
                    "constrained_sd": wide.get("dcTotal_constrained_sd", np.nan),
                }
            ).dropna(subset=["unconstrained", "constrained"], how="all")
            png = plots.constraint_bars(
                table,
                units="dcTotal since 1901 (Pg C)",
                title=self.page.label("DGVM ensemble mean per vegetation type"),
            )
            parts.append(img(png, "constrained vs unconstrained per class", "fig-class-constraint", "Paper Fig. S9"))
        else:
            parts.append(missing("No per-class 2-box rows of the ensemble."))
        return "\n".join(parts)
