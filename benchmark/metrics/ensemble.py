"""The multi-model view of the benchmark: ensemble mean and SD rows and ensemble-mean maps.

The paper reports the DGVM ensemble as mean +- SD across models (e.g. global Rh 58.6 +-
9.9 Pg C yr-1, tau_soil 23 +- 13 yr) and maps the ensemble-mean tau_soil difference and
its attribution to Rh or cSoil (Fig. 3b, Fig. S13; Rh dominates over 62 % of the
vegetated area). Conventions:

- ``ensemble_mean`` / ``ensemble_sd`` rows (kind ``ensemble``): mean and SD (ddof=1) across
  the DGVMs whose row is ``ok``, per metric and region; the reason names how many models;
- ensemble-mean maps: the Rh map (and its bias) is the mean of the Rh maps of the DGVMs whose
  ``rh_global`` row stands; tau_soil, its bias and the attribution are computed from the mean Rh
  and mean cSoil of the DGVMs whose attribution row stands, each member's over the years of its
  own tau_soil rows (:attr:`rhbench.results.Results.tau_fields`; :mod:`rhbench.metrics.map_years`),
  exactly as for one model (:func:`attribute_tau_bias`); the attribution rows of
  ``ensemble_mean`` are those of the mean fields (the share drawn in the map). The maps' years
  coordinates name each member's years when they differ;
- the observation products behind the reference: each cSoil product's map (Fig. S6) and the
  Random Forest ensemble SD of Rh (Fig. S4), for the report.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import partial
from typing import Protocol

import numpy as np
import xarray as xr

from rhbench.metrics import ensemble_arrays, map_years
from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, lat_lon_values
from rhbench.metrics.turnover import RH_DOMINATED, attribute_tau_bias, tau_map, tau_values
from rhbench.results import ENSEMBLE_MEAN as ENSEMBLE
from rhbench.results import (
    ENSEMBLE_SD,
    OBSERVED_CSOIL,
    PRODUCTS_MEAN,
    PRODUCTS_SD,
    REFERENCE_RH,
    Results,
    ScoreRow,
    needing,
)


class ReferenceLike(Protocol):
    """What :func:`summarize` reads of the observations (see ``metrics.suite.Reference``)."""

    csoil: xr.DataArray
    rh_land: xr.DataArray
    area: xr.DataArray
    vegetated_mask: xr.DataArray
    land_mask: xr.DataArray
    csoil_products: xr.DataArray
    rh_sd: xr.DataArray | None


#: Benchmark metrics summarised across the DGVMs.
ENSEMBLE_METRICS = (
    "rh_global",
    "csoil_global",
    "cveg_global",
    "tau_soil_global",
    "tau_veg_global",
    "rh_total",
    "rh_mean",
    "tau_soil",
    "tau_veg",
    "rh_taylor_score",
    "tau_soil_taylor_score",
    "tau_bias_pct",
    "tau_bias_from_rh_pct",
    "tau_bias_from_csoil_pct",
    "tau_bias_rh_dominated_area_pct",
    "corr_rh_dev_tau_dev",
)
#: Attribution metrics of ``ensemble_mean`` taken from the ensemble-mean fields.
_ATTRIBUTION = {
    "tau_bias_pct": "tau_bias_pct",
    "tau_bias_from_rh_pct": "bias_from_rh_pct",
    "tau_bias_from_csoil_pct": "bias_from_csoil_pct",
    "tau_bias_rh_dominated_area_pct": "rh_dominated_area_pct",
    "corr_rh_dev_tau_dev": "corr_rh_dev_tau_dev",
}


#: Metrics summarised across the prior Rh products (paper section 4: their global Rh 50.5 +- 4.9 Pg C yr-1).
PRODUCT_METRICS = ("rh_global", "tau_soil_global")


def ensemble_rows(
    rows: list[ScoreRow],
    metrics: tuple[str, ...] = ENSEMBLE_METRICS,
    *,
    kind: str = "dgvm",
    names: tuple[str, str] = (ENSEMBLE, ENSEMBLE_SD),
) -> list[ScoreRow]:
    """Mean and SD (ddof=1) across the ``ok`` rows of sources of ``kind`` (the DGVMs; ``"rh"``: the prior
    Rh products, as ``names`` :data:`PRODUCTS_MEAN`, :data:`PRODUCTS_SD`) of each metric and region.

    Units are those of the rows. A metric with fewer than two sources gets a skipped SD row.
    Each row needs the observations its members' rows need (:attr:`ScoreRow.needs`).
    """
    groups: dict[tuple[str, str], list[ScoreRow]] = {}
    for row in rows:
        if row.kind == kind and row.metric in metrics and row.status == "ok" and np.isfinite(row.value):
            groups.setdefault((row.metric, row.region), []).append(row)
    what = "DGVMs" if kind == "dgvm" else "Rh products"
    out = []
    for (metric, region), members in groups.items():
        values = np.array([r.value for r in members])
        units, n = members[0].units, len(members)
        needs = frozenset().union(*(r.needs for r in members))
        mean = ScoreRow(names[0], "ensemble", metric, region, units, float(values.mean()), "ok", f"{n} {what}", needs)
        if n > 1:
            sd = float(values.std(ddof=1))
            spread = ScoreRow(names[1], "ensemble", metric, region, units, sd, "ok", f"SD (ddof=1), {n} {what}", needs)
        else:
            reason = f"needs at least two {what}"
            spread = ScoreRow(names[1], "ensemble", metric, region, units, float("nan"), "skipped", reason, needs)
        out += [mean, spread]
    return out


def ensemble_maps(
    maps: xr.Dataset,
    obs_csoil: xr.DataArray,
    obs_rh: xr.DataArray,
    area: xr.DataArray,
    vegetated: xr.DataArray,
    members: Collection[str] | None = None,
    *,
    tau_fields: Mapping[str, Mapping[str, xr.DataArray]] | None = None,
    rh_members: Collection[str] | None = None,
    veg_members: Collection[str] | None = None,
) -> tuple[xr.Dataset, dict[str, float]]:
    """Ensemble-mean maps and the attribution summary of the ensemble-mean fields.

    Parameters
    ----------
    maps: (source, lat, lon) ``rh`` (g C m-2 yr-1) and ``tau_soil`` (yr) with a ``kind``
        coordinate on ``source`` (:func:`rhbench.metrics.suite.evaluate`'s ``maps``).
    obs_csoil: observed cSoil + cLitter, kg C m-2; obs_rh: reference Rh, g C m-2 yr-1.
    area: m2; vegetated: boolean cells of the attribution.
    members: the DGVMs of the tau_soil fields (None: every source of kind ``dgvm``).
    tau_fields: DGVM -> its ``rh`` and ``csoil`` over the years of its tau_soil rows
        (:attr:`rhbench.results.Results.tau_fields`); a member without them: its ``rh`` map and
        cSoil recovered as ``tau_soil * rh / 1000``.
    rh_members: the DGVMs of the Rh map (None: ``members``).
    veg_members: the DGVMs of the tau_veg map (mean cVeg over mean litterfall of their ``tau_fields``;
        None: ``members``).

    Returns
    -------
    (Dataset with ``rh``, ``tau_soil``, ``rh_bias``, ``tau_bias``, ``attribution`` and ``tau_veg`` of
    ``ensemble_mean`` (lat, lon), the attribution summary of
    :func:`rhbench.metrics.turnover.attribute_tau_bias`).
    """
    names = [str(s) for s, kind in zip(maps["source"].values, maps["kind"].values, strict=True) if kind == "dgvm"]
    chosen = [s for s in names if members is None or s in members]
    rh_chosen = chosen if rh_members is None else [s for s in names if s in rh_members]
    veg_chosen = chosen if veg_members is None else veg_members
    own = [a for f in (tau_fields or {}).values() for a in f.values()]
    if ensemble_arrays.plain_maps(maps, obs_csoil, obs_rh, area, vegetated, *own):
        return _maps_on_arrays(maps, (obs_csoil, obs_rh, area, vegetated), chosen, rh_chosen, veg_chosen, tau_fields)
    dgvm = maps.sel(source=maps["kind"] == "dgvm")
    rh_each, csoil_each = _tau_members(dgvm, chosen, tau_fields or {})
    rh, csoil = rh_each.mean("source", skipna=False), csoil_each.mean("source", skipna=False)
    attribution = attribute_tau_bias(csoil, rh, obs_csoil, obs_rh, area, vegetated)
    tau = tau_map(csoil, rh)
    rh_map = dgvm["rh"].sel(source=rh_chosen).astype(float).mean("source", skipna=False)
    fields = xr.Dataset(
        {
            "rh": rh_map,
            "tau_soil": tau,
            "rh_bias": rh_map - obs_rh,
            "tau_bias": tau - tau_map(obs_csoil, obs_rh),
            "attribution": attribution.maps["attribution"],
            "tau_veg": _tau_veg(rh_map, veg_chosen, tau_fields or {}),
        }
    ).drop_vars(["source", "kind", *_years_coords(maps)], errors="ignore")
    return fields, attribution.summary


def _maps_on_arrays(
    maps: xr.Dataset,
    observed: tuple[xr.DataArray, ...],
    chosen: list[str],
    rh_chosen: list[str],
    veg_chosen: Collection[str],
    tau_fields: Mapping[str, Mapping[str, xr.DataArray]] | None,
) -> tuple[xr.Dataset, dict[str, float]]:
    """:func:`ensemble_maps` on numpy arrays (:mod:`rhbench.metrics.ensemble_arrays`: the same values);
    ``observed``: the observed cSoil and Rh, the area and the vegetated cells."""
    obs_csoil, obs_rh, area, vegetated = observed
    rh, csoil = ensemble_arrays.member_fields(maps, chosen, tau_fields or {})
    grid = {"lat": maps.coords["lat"], "lon": maps.coords["lon"]}
    as_map = partial(xr.DataArray, dims=("lat", "lon"), coords=grid)
    attribution = attribute_tau_bias(as_map(csoil), as_map(rh), obs_csoil, obs_rh, area, vegetated)
    tau, rh_map = tau_values(csoil, rh), ensemble_arrays.rh_mean(maps, rh_chosen)
    obs_rh_values, obs_csoil_values = lat_lon_values(obs_rh), lat_lon_values(obs_csoil)
    values = {"rh": rh_map, "tau_soil": tau, "rh_bias": rh_map - obs_rh_values}
    values["tau_bias"] = tau - tau_values(obs_csoil_values, obs_rh_values)
    values["attribution"] = lat_lon_values(attribution.maps["attribution"])
    values["tau_veg"] = ensemble_arrays.tau_veg(rh.shape, veg_chosen, tau_fields or {})
    return ensemble_arrays.fields_dataset(values, maps), attribution.summary


def _tau_veg(like: xr.DataArray, members: Collection[str], tau_fields: Mapping[str, Mapping]) -> xr.DataArray:
    """Ensemble tau_veg (yr): mean cVeg x 1000 over mean litterfall of ``members`` (their ``tau_fields``);
    NaN when a member lacks them or there is none."""
    pairs = [tau_fields.get(name, {}) for name in sorted(members)]
    if not pairs or not all("cveg" in p and "litterfall" in p for p in pairs):
        return xr.full_like(like, np.nan)
    stack = partial(xr.concat, dim="source", coords="minimal", compat="override", join="override")
    cveg = stack([p["cveg"].astype(float).reindex_like(like) for p in pairs]).mean("source", skipna=False)
    litter = stack([p["litterfall"].astype(float).reindex_like(like) for p in pairs]).mean("source", skipna=False)
    return tau_map(cveg, litter).drop_vars(["source", "kind"], errors="ignore")


def _tau_members(
    dgvm: xr.Dataset, chosen: list[str], tau_fields: Mapping[str, Mapping[str, xr.DataArray]]
) -> tuple[xr.DataArray, xr.DataArray]:
    """(source, lat, lon) Rh and cSoil of the ``chosen`` members for tau_soil (see :func:`ensemble_maps`)."""
    rh_each, csoil_each = [], []
    for name in chosen:
        own = tau_fields.get(name, {})
        rh = dgvm["rh"].sel(source=name).astype(float)
        if "rh" in own and "csoil" in own:
            rh_each.append(own["rh"].astype(float).reindex_like(rh))
            csoil_each.append(own["csoil"].astype(float).reindex_like(rh))
        else:
            rh_each.append(rh)
            csoil_each.append(dgvm["tau_soil"].sel(source=name).astype(float) * rh / GRAMS_PER_KILOGRAM)
    stack = partial(xr.concat, dim="source", coords="minimal", compat="override", join="override")
    if not chosen:
        empty = dgvm["rh"].isel(source=slice(0, 0)).astype(float)
        return empty, empty
    return stack(rh_each), stack(csoil_each)


def _years_coords(maps: xr.Dataset) -> list[str]:
    """The years coordinates (``rh_years`` ...) of ``maps`` (:mod:`rhbench.metrics.map_years`)."""
    return [str(c) for c in maps.coords if str(c).endswith("_years")]


def with_ensemble_maps(
    results_maps: xr.Dataset, fields: xr.Dataset, years: Mapping[str, str] | None = None
) -> xr.Dataset:
    """``results_maps`` with ``fields`` appended as source ``ensemble_mean`` (kind ensemble); ``years``:
    the text of each years coordinate of the ensemble (:func:`ensemble_years`)."""
    texts = {name: (years or {}).get(name, "") for name in _years_coords(results_maps)}
    merged = ensemble_arrays.appended(results_maps, fields, ENSEMBLE, {"kind": "ensemble", **texts})
    if merged is not None:
        return merged
    coords = {"kind": ("source", ["ensemble"])}
    coords |= {name: ("source", [text]) for name, text in texts.items()}
    extra = fields.astype(np.float32).expand_dims(source=[ENSEMBLE]).assign_coords(coords)
    merged = xr.concat([results_maps, extra[list(results_maps.data_vars)]], dim="source", join="left")
    for name in results_maps.data_vars:
        merged[name].attrs = results_maps[name].attrs
    for name in _years_coords(results_maps):
        merged[name] = merged[name].astype(str)
    return merged.assign_attrs(results_maps.attrs)


def ensemble_years(maps: xr.Dataset, members: Collection[str], **of: Collection[str]) -> dict[str, str]:
    """Years coordinate -> its text for the ensemble mean: the members' years (:func:`map_years.members_text`),
    those of field ``f``'s maps of ``of[f]`` (``rh=..., tau_veg=...``), the others' of ``members``."""
    out = {}
    for name in _years_coords(maps):
        chosen = next((m for f, m in of.items() if name == map_years.coordinate(f)), members)
        texts = {str(s): str(t) for s, t in zip(maps["source"].values, maps[name].values, strict=True) if s in chosen}
        out[name] = map_years.members_text(dict(sorted(texts.items()))) if texts else ""
    return out


def attribution_rows(summary: dict[str, float], units: dict[str, str], members: int | None = None) -> list[ScoreRow]:
    """``ensemble_mean`` attribution rows from the ensemble-mean fields' summary (of ``members`` DGVMs)."""
    of = "of the ensemble-mean Rh and cSoil fields"
    if members is not None:
        of += f" of the {members} DGVMs whose own attribution row stands"
    rows = []
    for metric, key in _ATTRIBUTION.items():
        value = float(summary[key])
        ok = np.isfinite(value)
        rows.append(
            ScoreRow(
                ENSEMBLE,
                "ensemble",
                metric,
                "global",
                units.get(metric, "%"),
                value if ok else float("nan"),
                "ok" if ok else "skipped",
                of if ok else "undefined: no valid cells",
            )
        )
    return needing(rows, REFERENCE_RH, OBSERVED_CSOIL)


def rh_dominated_share(attribution: xr.DataArray, area: xr.DataArray) -> float:
    """% of the area of the attributed cells where the Rh bias dominates (hand-checkable)."""
    used = attribution.notnull()
    total = float(area.where(used, 0.0).sum())
    return 100.0 * float(area.where(attribution == RH_DOMINATED, 0.0).sum()) / total if total else float("nan")


def observation_products(
    csoil_products: xr.DataArray, rh_sd: xr.DataArray | None, area: xr.DataArray, land: xr.DataArray
) -> xr.Dataset:
    """Maps and zonal means of the observation products (Fig. S4, S6).

    Returns a Dataset with ``csoil`` (product, lat, lon) kg C m-2 on land, ``csoil_zonal``
    (product, lat) area-weighted zonal means, and ``rh_sd`` (lat, lon) g C m-2 yr-1 when given.
    """
    on_arrays = ensemble_arrays.observation_products(csoil_products, rh_sd, area, land)
    if on_arrays is not None:
        return on_arrays
    csoil = csoil_products.where(land)
    weights = area.where(csoil.notnull(), 0.0)
    zonal = (csoil.fillna(0) * weights).sum("lon") / weights.sum("lon").where(weights.sum("lon") > 0)
    out = xr.Dataset({"csoil": csoil.astype(np.float32), "csoil_zonal": zonal})
    out["csoil"].attrs["units"] = out["csoil_zonal"].attrs["units"] = "kg C m-2"
    if rh_sd is not None:
        out["rh_sd"] = rh_sd.where(land).astype(np.float32).assign_attrs(units="g C m-2 yr-1")
    return out


def summarize(results: Results, reference: ReferenceLike) -> Results:
    """Ensemble rows, ensemble-mean maps and observation-product maps of a benchmark result.

    ``reference`` provides ``csoil``, ``rh_land``, ``area``, ``vegetated_mask``,
    ``land_mask``, ``csoil_products`` and ``rh_sd`` (:class:`rhbench.metrics.suite.Reference`).
    Returns new Results: its ``maps`` dataset replaces the input's (``ensemble_mean`` added).
    """
    out = Results()
    products = ensemble_rows(results.rows, PRODUCT_METRICS, kind="rh", names=(PRODUCTS_MEAN, PRODUCTS_SD))
    rows = ensemble_rows(results.rows)
    maps = results.datasets.get("maps")
    has_dgvm = maps is not None and bool((maps["kind"] == "dgvm").any())
    if has_dgvm:
        members = _standing(results.rows, "tau_bias_pct")
        rh_members, veg_members = _standing(results.rows, "rh_global"), _standing(results.rows, "tau_veg_global")
        fields, summary = ensemble_maps(
            maps,
            reference.csoil,
            reference.rh_land,
            reference.area,
            reference.vegetated_mask,
            members,
            tau_fields=results.tau_fields,
            rh_members=rh_members,
            veg_members=veg_members,
        )
        years = ensemble_years(maps, members, rh=rh_members, tau_veg=veg_members)
        out.datasets["maps"] = with_ensemble_maps(maps, fields, years)
        units = {r.metric: r.units for r in results.rows}
        rows = [r for r in rows if not (r.source == ENSEMBLE and r.metric in _ATTRIBUTION and r.region == "global")]
        rows += attribution_rows(summary, units, len(members))
    out.rows = rows + products
    out.datasets["observations"] = observation_products(
        reference.csoil_products, reference.rh_sd, reference.area, reference.land_mask
    )
    return out


def _standing(rows: list[ScoreRow], metric: str) -> set[str]:
    """The DGVMs whose own global ``metric`` row is ok (``tau_bias_pct``: the members of the tau_soil and
    attribution fields; ``rh_global``: of the Rh map): a model whose rows failed (coverage, period,
    implausible values) is no member of the ensemble-mean fields either."""
    return {
        r.source for r in rows if r.kind == "dgvm" and r.metric == metric and r.region == "global" and r.status == "ok"
    }
