"""The benchmark suite: every metric of every DGVM and Rh product against the observations.

Entry point :func:`evaluate`. Every number it reports is named in :data:`METRICS`
(name -> (units, definition)). Conventions shared by all metrics:

- period means: each input is averaged over the years of ``period`` (1982-2018) first;
- cells: all fields are restricted to the reference land mask; Taylor statistics and the
  bias attribution use the vegetated cells (reference ``vegclass`` has a class, see
  :mod:`rhbench.vegclass`) where both maps are present, weighted by cell area;
- regions: ``global`` (the land mask), 10 degree latitude bands, climate zones and
  vegetation classes (:mod:`rhbench.metrics.totals`);
- turnover times are ratios of totals (:mod:`rhbench.metrics.turnover`); the observed
  cSoil is the mean of the cSoil products (cSoil + cLitter), also for the Rh products.

A source lacking a variable gets ``status="skipped"`` rows that say which variable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import xarray as xr

from rhbench.errors import CoordinateError, MissingVariableError, RhbenchError
from rhbench.metrics.coverage import coverage_rows, gate, years_used
from rhbench.metrics.taylor import taylor_statistics
from rhbench.metrics.totals import (
    GRAMS_PER_KILOGRAM,
    climate_zone_masks,
    global_total,
    latitude_band_masks,
    regional_means,
    regional_totals,
    stack_masks,
    zonal_profile,
)
from rhbench.metrics.turnover import (
    TauBiasAttribution,
    attribute_tau_bias,
    litterfall,
    observed_tau_soil,
    ratio_of_totals,
    tau_map,
)
from rhbench.results import Results, ScoreRow
from rhbench.vegclass import class_masks, vegetated

logger = logging.getLogger(__name__)

_FLUX = "g C m-2 yr-1"
_TAYLOR = {
    "r": ("1", "area-weighted Pearson correlation with the reference map"),
    "sd": (None, "area-weighted (population) standard deviation of the map"),
    "normalized_sd": ("1", "SD of the map / SD of the reference map"),
    "crmse": (None, "area-weighted centred RMS difference from the reference map"),
    "bias": (None, "area-weighted mean of the map minus that of the reference"),
    "score": ("1", "ILAMB/Taylor 2001 score 2 (1 + r) / (s + 1/s)^2, s = normalized_sd"),
}
_TAYLOR_KEYS = {
    "r": "r",
    "sd": "sd_model",
    "normalized_sd": "normalized_sd",
    "crmse": "crmse",
    "bias": "bias",
    "score": "score",
}

#: Every metric :func:`evaluate` reports: name -> (units, one-line definition).
METRICS: dict[str, tuple[str, str]] = {
    "rh_global": ("Pg C yr-1", "area-weighted total of period-mean Rh over the land mask"),
    "rh_global_sd": (
        "Pg C yr-1",
        "uncertainty of the reference rh_global: SD across the RF "
        "ensemble of global totals, else the total of the per-cell SD map",
    ),
    "csoil_global": ("Pg C", "total of period-mean cSoil + cLitter over the land mask"),
    "csoil_global_sd": ("Pg C", "SD (ddof=1) of the observed cSoil products' global totals"),
    "cveg_global": ("Pg C", "total of period-mean cVeg over the land mask"),
    "tau_soil_global": (
        "yr",
        "total (cSoil + cLitter) / total Rh, cells with both present "
        "(Rh products: observed cSoil over the product's Rh)",
    ),
    "tau_soil_global_sd": (
        "yr",
        "SD (ddof=1) of tau_soil_global computed with each observed cSoil product in turn",
    ),
    "tau_veg_global": ("yr", "total cVeg / total litterfall (fVegLitter, else NPP - dcVeg/dt)"),
    "rh_total": ("Pg C yr-1", "total of period-mean Rh over a region (band, zone or class)"),
    "rh_mean": (_FLUX, "area-weighted mean of period-mean Rh over a region"),
    "tau_soil": ("yr", "total (cSoil + cLitter) / total Rh over a region"),
    "tau_veg": ("yr", "total cVeg / total litterfall over a region"),
    **{
        f"rh_taylor_{key}": (units or _FLUX, f"annual-mean Rh, vegetated cells: {text}")
        for key, (units, text) in _TAYLOR.items()
    },
    **{
        f"tau_soil_taylor_{key}": (units or "yr", f"tau_soil map, vegetated cells: {text}")
        for key, (units, text) in _TAYLOR.items()
    },
    "tau_bias_pct": (
        "%",
        "100 (tau_soil_mod / tau_soil_obs - 1), ratios of totals over the vegetated cells used for the attribution",
    ),
    "tau_bias_from_rh_pct": (
        "%",
        "tau_soil bias from the Rh bias alone: 100 (total Rh_obs / total Rh_mod - 1) over the vegetated cells",
    ),
    "tau_bias_from_csoil_pct": (
        "%",
        "tau_soil bias from the cSoil bias alone: 100 (total cSoil_mod / total cSoil_obs - 1) over the vegetated cells",
    ),
    "tau_bias_rh_dominated_area_pct": (
        "%",
        "share of the vegetated area where |bias from Rh alone| > |bias from cSoil alone| (per cell)",
    ),
    "rh_coverage": (
        "1",
        "share of the reference's land area where the source's Rh map has values; below 0.8 its totals fail",
    ),
    "period_coverage": (
        "1",
        "share of the benchmark period's years with data (reason: the years used); below 0.8 every row fails",
    ),
    "corr_rh_dev_tau_dev": (
        "1",
        "area-weighted correlation across vegetated cells of the "
        "relative deviations of Rh and of tau_soil from the observations",
    ),
}

_TAYLOR_METRICS = {prefix: [f"{prefix}_taylor_{key}" for key in _TAYLOR] for prefix in ("rh", "tau_soil")}
_ATTRIBUTION_KEYS = {
    "tau_bias_pct": "tau_bias_pct",
    "tau_bias_from_rh_pct": "bias_from_rh_pct",
    "tau_bias_from_csoil_pct": "bias_from_csoil_pct",
    "tau_bias_rh_dominated_area_pct": "rh_dominated_area_pct",
    "corr_rh_dev_tau_dev": "corr_rh_dev_tau_dev",
}


@dataclass
class Reference:
    """The observations every source is benchmarked against, all on one regular grid.

    Attributes
    ----------
    rh: (lat, lon) annual-mean reference Rh over the period (the RF product), g C m-2 yr-1.
    csoil_products: (product, lat, lon) observed cSoil + cLitter per product, kg C m-2.
    area: (lat, lon) cell area, m2.
    vegclass: (lat, lon) vegetation class codes of :mod:`rhbench.vegclass` (0 or NaN for
        none); None counts every land cell as vegetated and omits per-class rows.
    land: (lat, lon) boolean land mask; None means the cells where ``rh`` is present.
    rh_sd: (lat, lon) per-cell SD of the Rh product across the RF ensemble, g C m-2 yr-1.
    rh_global_sd: SD across the RF ensemble of the global Rh total, Pg C yr-1; when None
        and ``rh_sd`` is given, the total of ``rh_sd`` (an upper bound) is reported.
    name: the ``source`` of the reference's own rows.
    band_width: width of the zonal latitude bands, degrees.
    product_dim: name of the product dimension of ``csoil_products``.
    """

    rh: xr.DataArray
    csoil_products: xr.DataArray
    area: xr.DataArray
    vegclass: xr.DataArray | None = None
    land: xr.DataArray | None = None
    rh_sd: xr.DataArray | None = None
    rh_global_sd: float | None = None
    name: str = "observations"
    band_width: float = 10.0
    product_dim: str = "product"

    def __post_init__(self) -> None:
        for label in ("csoil_products", "area", "vegclass", "land", "rh_sd"):
            value = getattr(self, label)
            if value is not None:
                _check_grid(value, self.rh, source=self.name, variable=label)

    @cached_property
    def land_mask(self) -> xr.DataArray:
        """Boolean (lat, lon) land mask."""
        land = self.rh.notnull() if self.land is None else self.land.fillna(0).astype(bool)
        return land.rename("land")

    @cached_property
    def vegetated_mask(self) -> xr.DataArray:
        """Boolean (lat, lon): land cells with a vegetation class."""
        if self.vegclass is None:
            return self.land_mask
        return (vegetated(self.vegclass) & self.land_mask).rename("vegetated")

    @cached_property
    def csoil(self) -> xr.DataArray:
        """Observed cSoil + cLitter: mean of the products on land, kg C m-2."""
        return self.csoil_products.mean(self.product_dim).where(self.land_mask)

    @cached_property
    def rh_land(self) -> xr.DataArray:
        """Reference Rh on land, g C m-2 yr-1."""
        return self.rh.where(self.land_mask)

    @cached_property
    def tau_soil(self) -> xr.DataArray:
        """Observed tau_soil map (mean cSoil product over reference Rh), yr."""
        return tau_map(self.csoil, self.rh_land)

    @cached_property
    def regions(self) -> xr.DataArray:
        """Boolean (region, lat, lon): global, latitude bands, climate zones, classes."""
        lat, lon = self.rh["lat"], self.rh["lon"]
        masks = {"global": self.land_mask}
        masks |= latitude_band_masks(lat, lon, width=self.band_width)
        masks |= climate_zone_masks(lat, lon)
        if self.vegclass is not None:
            masks |= class_masks(self.vegclass)
        return stack_masks(masks) & self.land_mask


def evaluate(
    reference: Reference,
    dgvms: dict[str, xr.Dataset],
    rh_products: dict[str, xr.DataArray],
    *,
    period: tuple[int, int] = (1982, 2018),
    native: dict[str, xr.Dataset] | None = None,
) -> Results:
    """Benchmark DGVMs and prior Rh products against ``reference``.

    Parameters
    ----------
    reference: the observations (see :class:`Reference`).
    dgvms: name -> Dataset (year, lat, lon) with some of ``rh``, ``npp``, ``fVegLitter``
        (g C m-2 yr-1), ``cVeg``, ``cSoil`` (kg C m-2; cSoil includes litter), on the
        reference grid; may be dask-backed (only period means are computed).
    rh_products: name -> Rh (lat, lon) or (year, lat, lon), g C m-2 yr-1.
    period: first and last year (inclusive) of the means.
    native: name -> the DGVM's totals per region on its native grid with cell area x land
        fraction (:func:`rhbench.metrics.native.native_totals`); its totals, regional
        means and turnover times then come from there, not from the maps on the
        reference's land mask. Without it they are computed from the maps.

    Returns
    -------
    Results with one :class:`ScoreRow` per source x metric x region (metrics in
    :data:`METRICS`), ``datasets["maps"]`` (source, lat, lon) and
    ``datasets["zonal"]`` (source, lat).
    """
    results = Results()
    obs = observed_tau_soil(
        reference.csoil_products.where(reference.land_mask),
        reference.rh_land,
        reference.area,
        product_dim=reference.product_dim,
    )
    results.rows.extend(_reference_rows(reference, obs.global_sd))
    fields = {reference.name: {"rh": reference.rh_land, "csoil": reference.csoil}}
    kinds = {reference.name: "reference"}
    attributions: dict[str, TauBiasAttribution] = {}
    sources = [(name, "dgvm", ds) for name, ds in dgvms.items()]
    sources += [(name, "rh", da) for name, da in rh_products.items()]
    for name, kind, data in sources:
        try:
            found, missing = _period_fields(name, data, kind, period, reference)
        except RhbenchError as err:
            logger.warning("%s failed: %s", name, err)
            results.failures[name] = str(err)
            results.rows.extend(_status_rows(name, kind, _metrics_of(kind), reference, "failed", str(err)))
            continue
        if kind == "rh" and "rh" in found:
            found["csoil"] = reference.csoil
            missing.pop("csoil", None)
        if kind == "dgvm" and "rh" in found and "csoil" in found:
            attributions[name] = attribute_tau_bias(
                found["csoil"],
                found["rh"],
                reference.csoil,
                reference.rh_land,
                reference.area,
                reference.vegetated_mask,
            )
        totals = (native or {}).get(name)
        source_rows = _source_rows(name, kind, found, missing, reference, attributions.get(name), totals)
        record = data.attrs if "year" not in data.dims else years_used(data["year"].values, period)
        attrs = xr.Dataset(attrs=record)
        checks = coverage_rows(name, kind, attrs, found.get("rh"), reference.land_mask, reference.area)
        results.rows.extend(gate(source_rows, checks) + checks)
        fields[name] = found
        kinds[name] = kind
    results.datasets["maps"] = _maps(fields, kinds, attributions, reference)
    results.datasets["zonal"] = _zonal(fields, kinds, reference)
    return results


def _check_grid(data: xr.DataArray | xr.Dataset, like: xr.DataArray, *, source: str, variable: str) -> None:
    for coord in ("lat", "lon"):
        if coord not in data.coords:
            raise CoordinateError(
                "input lacks a coordinate",
                source=source,
                variable=variable,
                found=sorted(map(str, data.coords)),
                expected=coord,
            )
        ours, theirs = data[coord].values, like[coord].values
        if ours.shape != theirs.shape or not np.allclose(ours, theirs):
            raise CoordinateError(
                "input is not on the reference grid",
                source=source,
                variable=variable,
                found=f"{coord} {ours.size} values {ours.min():g}..{ours.max():g}",
                expected=f"{coord} {theirs.size} values {theirs.min():g}..{theirs.max():g}",
            )


def _period_fields(
    name: str,
    data: xr.Dataset | xr.DataArray,
    kind: str,
    period: tuple[int, int],
    ref: Reference,
) -> tuple[dict[str, xr.DataArray], dict[str, str]]:
    """Period-mean (lat, lon) fields on land, computed, and reasons for the missing ones."""
    ds = data.to_dataset(name="rh") if isinstance(data, xr.DataArray) else data
    _check_grid(ds, ref.rh, source=name, variable=", ".join(map(str, ds.data_vars)))
    lazy: dict[str, xr.DataArray] = {}
    missing: dict[str, str] = {}
    for var, key in (("rh", "rh"), ("cSoil", "csoil"), ("cVeg", "cveg")):
        if var in ds:
            lazy[key] = ds[var]
        else:
            missing[key] = f"no {var} variable"
    if kind == "dgvm":
        try:
            lazy["litterfall"] = litterfall(ds)
        except MissingVariableError as err:
            missing["litterfall"] = str(err)
    if "year" in ds.dims:
        lazy = {key: da.sel(year=slice(*period)) for key, da in lazy.items()}
        if ds["year"].sel(year=slice(*period)).size == 0:
            reason = f"no years in {period[0]}-{period[1]}"
            return {}, dict.fromkeys(("rh", "csoil", "cveg", "litterfall"), reason)
    means = xr.Dataset({key: da.mean("year") if "year" in da.dims else da for key, da in lazy.items()}).compute()
    found = {key: means[key].where(ref.land_mask) for key in means.data_vars}
    return found, missing


def _metrics_of(kind: str) -> list[tuple[str, bool]]:
    """(metric, is_regional) pairs a source of ``kind`` reports."""
    out = [("rh_global", False), ("rh_total", True), ("rh_mean", True)]
    out += [(name, False) for name in _TAYLOR_METRICS["rh"]]
    out += [("tau_soil_global", False), ("tau_soil", True)]
    out += [(name, False) for name in _TAYLOR_METRICS["tau_soil"]]
    if kind == "dgvm":
        out += [
            ("csoil_global", False),
            ("cveg_global", False),
            ("tau_veg_global", False),
            ("tau_veg", True),
        ]
        out += [(name, False) for name in _ATTRIBUTION_KEYS]
    return out


def _region_names(ref: Reference, regional: bool) -> list[str]:
    names = [str(r) for r in ref.regions["region"].values]
    return [r for r in names if r != "global"] if regional else ["global"]


def _row(source: str, kind: str, metric: str, region: str, value: float) -> ScoreRow:
    value = float(value)
    if np.isfinite(value):
        return ScoreRow(source, kind, metric, region, METRICS[metric][0], value)
    return ScoreRow(
        source,
        kind,
        metric,
        region,
        METRICS[metric][0],
        float("nan"),
        status="skipped",
        reason="undefined: no valid cells, or a constant field",
    )


def _status_rows(
    source: str,
    kind: str,
    metrics: list[tuple[str, bool]],
    ref: Reference,
    status: str,
    reason: str,
) -> list[ScoreRow]:
    return [
        ScoreRow(
            source,
            kind,
            metric,
            region,
            METRICS[metric][0],
            float("nan"),
            status=status,
            reason=reason,
        )
        for metric, regional in metrics
        for region in _region_names(ref, regional)
    ]


def _regional_rows(source: str, kind: str, metric: str, values: xr.DataArray) -> list[ScoreRow]:
    return [
        _row(source, kind, metric, str(region), float(values.sel(region=region)))
        for region in values["region"].values
        if region != "global"
    ]


def _taylor_rows(
    source: str,
    kind: str,
    prefix: str,
    reference_map: xr.DataArray,
    model_map: xr.DataArray,
    ref: Reference,
) -> list[ScoreRow]:
    veg = ref.vegetated_mask
    stats = taylor_statistics(reference_map.where(veg), model_map.where(veg), ref.area)
    return [
        _row(source, kind, f"{prefix}_taylor_{key}", "global", stats[stat_key])
        for key, stat_key in _TAYLOR_KEYS.items()
    ]


def _reference_rows(ref: Reference, tau_sd: float) -> list[ScoreRow]:
    name, kind = ref.name, "reference"
    rh = ref.rh.where(ref.land_mask)
    rh_totals = regional_totals(rh, ref.area, ref.regions)
    product_totals = global_total(ref.csoil_products.where(ref.land_mask), ref.area, grams_per_unit=GRAMS_PER_KILOGRAM)
    tau = ratio_of_totals(ref.csoil, rh, ref.area, ref.regions)
    rows = [
        _row(name, kind, "rh_global", "global", float(rh_totals.sel(region="global"))),
        _row(
            name,
            kind,
            "csoil_global",
            "global",
            float(global_total(ref.csoil, ref.area, grams_per_unit=GRAMS_PER_KILOGRAM)),
        ),
        _row(name, kind, "csoil_global_sd", "global", float(product_totals.std(ddof=1))),
        _row(name, kind, "tau_soil_global", "global", float(tau.sel(region="global"))),
        _row(name, kind, "tau_soil_global_sd", "global", tau_sd),
    ]
    rh_sd = ref.rh_global_sd
    if rh_sd is None and ref.rh_sd is not None:
        rh_sd = float(global_total(ref.rh_sd.where(ref.land_mask), ref.area))
    if rh_sd is not None:
        rows.append(_row(name, kind, "rh_global_sd", "global", rh_sd))
    rows += _regional_rows(name, kind, "rh_total", rh_totals)
    rows += _regional_rows(name, kind, "rh_mean", regional_means(rh, ref.area, ref.regions))
    rows += _regional_rows(name, kind, "tau_soil", tau)
    veg = ref.vegetated_mask
    for prefix, field_map in (("rh", rh), ("tau_soil", tau_map(ref.csoil, rh))):
        stats = taylor_statistics(field_map.where(veg), field_map.where(veg), ref.area)
        rows.append(_row(name, kind, f"{prefix}_taylor_sd", "global", stats["sd_ref"]))
    return rows


def _source_rows(
    source: str,
    kind: str,
    found: dict[str, xr.DataArray],
    missing: dict[str, str],
    ref: Reference,
    attribution: TauBiasAttribution | None,
    native: xr.Dataset | None = None,
) -> list[ScoreRow]:
    """Rows of one DGVM or Rh product; groups whose inputs are missing are skipped.

    Totals, regional means and turnover times come from ``native`` (the model's own grid)
    when given, else from the maps over the reference's land mask (:func:`_map_totals`).
    """
    rows: list[ScoreRow] = []
    totals = native if native is not None else _map_totals(found, ref)

    def skip(metrics: list[tuple[str, bool]], needs: tuple[str, ...]) -> bool:
        reasons = [missing[key] for key in needs if key in missing]
        if reasons:
            rows.extend(_status_rows(source, kind, metrics, ref, "skipped", "; ".join(reasons)))
        return bool(reasons)

    rh_metrics = [("rh_global", False), ("rh_total", True), ("rh_mean", True)]
    if not skip(rh_metrics + [(m, False) for m in _TAYLOR_METRICS["rh"]], ("rh",)):
        rows.append(_row(source, kind, "rh_global", "global", float(totals["rh_total"].sel(region="global"))))
        rows += _regional_rows(source, kind, "rh_total", totals["rh_total"])
        rows += _regional_rows(source, kind, "rh_mean", totals["rh_mean"])
        rows += _taylor_rows(source, kind, "rh", ref.rh_land, found["rh"], ref)
    tau_metrics = [("tau_soil_global", False), ("tau_soil", True)]
    tau_metrics += [(m, False) for m in _TAYLOR_METRICS["tau_soil"]]
    if not skip(tau_metrics, ("rh", "csoil")):
        tau = totals["tau_soil"]
        rows.append(_row(source, kind, "tau_soil_global", "global", float(tau.sel(region="global"))))
        rows += _regional_rows(source, kind, "tau_soil", tau)
        rows += _taylor_rows(source, kind, "tau_soil", ref.tau_soil, tau_map(found["csoil"], found["rh"]), ref)
    if kind != "dgvm":
        return rows
    for metric, key in (("csoil_global", "csoil"), ("cveg_global", "cveg")):
        if not skip([(metric, False)], (key,)):
            rows.append(_row(source, kind, metric, "global", float(totals[f"{key}_total"].sel(region="global"))))
    if not skip([("tau_veg_global", False), ("tau_veg", True)], ("cveg", "litterfall")):
        tau_veg = totals["tau_veg"]
        rows.append(_row(source, kind, "tau_veg_global", "global", float(tau_veg.sel(region="global"))))
        rows += _regional_rows(source, kind, "tau_veg", tau_veg)
    attribution_metrics = [(m, False) for m in _ATTRIBUTION_KEYS]
    if not skip(attribution_metrics, ("rh", "csoil")) and attribution is not None:
        rows += [
            _row(source, kind, metric, "global", attribution.summary[key]) for metric, key in _ATTRIBUTION_KEYS.items()
        ]
    return rows


def _map_totals(found: dict[str, xr.DataArray], ref: Reference) -> xr.Dataset:
    """Totals of period-mean maps on the common grid over the reference's regions (as in the paper)."""
    regions, area = ref.regions, ref.area
    out = {}
    if "rh" in found:
        out["rh_total"] = regional_totals(found["rh"], area, regions)
        out["rh_mean"] = regional_means(found["rh"], area, regions)
    if "rh" in found and "csoil" in found:
        out["tau_soil"] = ratio_of_totals(found["csoil"], found["rh"], area, regions)
    for key in ("csoil", "cveg"):
        if key in found:
            out[f"{key}_total"] = regional_totals(found[key], area, regions, grams_per_unit=GRAMS_PER_KILOGRAM)
    if "cveg" in found and "litterfall" in found:
        out["tau_veg"] = ratio_of_totals(found["cveg"], found["litterfall"], area, regions)
    return xr.Dataset(out)


def _maps(
    fields: dict[str, dict[str, xr.DataArray]],
    kinds: dict[str, str],
    attributions: dict[str, TauBiasAttribution],
    ref: Reference,
) -> xr.Dataset:
    """(source, lat, lon) maps: rh, tau_soil, rh_bias, tau_bias, attribution (float32)."""
    nan = xr.full_like(ref.rh_land, np.nan)
    per_source = []
    for name, found in fields.items():
        rh = found.get("rh", nan)
        tau = tau_map(found["csoil"], rh) if "csoil" in found else nan
        attribution = attributions[name].maps["attribution"] if name in attributions else nan
        per_source.append(
            xr.Dataset(
                {
                    "rh": rh,
                    "tau_soil": tau,
                    "rh_bias": rh - ref.rh_land,
                    "tau_bias": tau - ref.tau_soil,
                    "attribution": attribution,
                }
            ).astype(np.float32)
        )
    maps = xr.concat(per_source, dim="source", coords="minimal", compat="override")
    maps = maps.assign_coords(source=list(fields), kind=("source", [kinds[n] for n in fields]))
    return _with_units(
        maps,
        {"rh": _FLUX, "tau_soil": "yr", "rh_bias": _FLUX, "tau_bias": "yr", "attribution": "1"},
    )


def _zonal(fields: dict[str, dict[str, xr.DataArray]], kinds: dict[str, str], ref: Reference) -> xr.Dataset:
    """(source, lat) area-weighted zonal means of rh and cSoil, and zonal tau_soil."""
    per_source = []
    nan = xr.full_like(ref.rh["lat"], np.nan, dtype=float)
    for found in fields.values():
        rh, csoil = found.get("rh"), found.get("csoil")
        zonal = {"rh": nan, "csoil": nan, "tau_soil": nan}
        if rh is not None:
            zonal["rh"] = zonal_profile(rh, ref.area)
        if csoil is not None:
            zonal["csoil"] = zonal_profile(csoil, ref.area)
        if rh is not None and csoil is not None:
            both = rh.notnull() & csoil.notnull()
            zonal["tau_soil"] = (
                zonal_profile(csoil.where(both), ref.area)
                * GRAMS_PER_KILOGRAM
                / zonal_profile(rh.where(both), ref.area)
            )
        per_source.append(xr.Dataset(zonal))
    out = xr.concat(per_source, dim="source", coords="minimal", compat="override")
    out = out.assign_coords(source=list(fields), kind=("source", [kinds[n] for n in fields]))
    return _with_units(out, {"rh": _FLUX, "csoil": "kg C m-2", "tau_soil": "yr"})


def _with_units(ds: xr.Dataset, units: dict[str, str]) -> xr.Dataset:
    for name, unit in units.items():
        ds[name].attrs.update(units=unit)
    return ds
