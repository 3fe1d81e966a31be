"""The observations every source is benchmarked against (:class:`Reference`) and the reference's own rows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np
import xarray as xr

from rhbench.errors import CoordinateError
from rhbench.grid import grid_mismatch
from rhbench.metrics.definitions import METRIC_TABLE
from rhbench.metrics.rows import regional_rows, row
from rhbench.metrics.taylor import weighted_sd
from rhbench.metrics.totals import (
    CLIMATE_ZONES,
    GRAMS_PER_KILOGRAM,
    band_names,
    climate_zone_masks,
    global_total,
    grid_values,
    latitude_band_masks,
    regional_means,
    regional_totals,
    stack_masks,
)
from rhbench.metrics.turnover import ratio_of_totals, tau_floor_note_values, tau_map, tau_values
from rhbench.results import ScoreRow
from rhbench.vegclass import CLASS_NAMES, class_masks, vegetated

if TYPE_CHECKING:
    from rhbench.metrics.observed import ObservedTotals

#: Reason of the rows that need observed cSoil when the data root has no cSoil product.
NO_OBSERVED_CSOIL = "no observed cSoil product in the data root: turnover times against observations are skipped"
#: Reason of the 2-box rows then: the 2-box model runs as the constraint, which needs the observed tau_soil.
NO_OBSERVED_CSOIL_TWOBOX = (
    "no observed cSoil product in the data root: the 2-box model runs only as the constraint, which needs the "
    "observed tau_soil, so its rows (the unconstrained emulation and its check too) are skipped"
)


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
    rh_global_sd: SD across the RF ensemble members' global Rh totals, Pg C yr-1; when None
        the row is skipped (the total of ``rh_sd`` is not the SD of the total).
    name: the ``source`` of the reference's own rows.
    band_width: width of the zonal latitude bands, degrees.
    product_dim: name of the product dimension of ``csoil_products``.
    totals: the products' totals on their native grids (:mod:`rhbench.metrics.observed`);
        when given, the reference's totals and turnover times come from there, else from
        the maps on this grid.
    failed: why the reference Rh is unusable (``rh`` is then all missing, and every row
        that needs it fails with this reason: :mod:`rhbench.failed_reference`), or None.
    rh_years: the years ``rh`` is a mean over, as text (``1982-2018``; :mod:`rhbench.metrics.map_years`);
        None: the benchmark period.
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
    totals: ObservedTotals | None = None
    failed: str | None = None
    rh_years: str | None = None

    def __post_init__(self) -> None:
        for label in ("csoil_products", "area", "vegclass", "land", "rh_sd"):
            value = getattr(self, label)
            if value is not None:
                setattr(self, label, check_grid(value, self.rh, source=self.name, variable=label))

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
    def has_csoil(self) -> bool:
        """True when some observed cSoil product has values on land (else only Rh is benchmarked)."""
        return bool(self.csoil_products.where(self.land_mask).notnull().any())

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
    def region_names(self) -> list[str]:
        """The names of :attr:`regions` in order (global, bands, climate zones, classes), without its masks."""
        names = ["global", *band_names(self.band_width), *CLIMATE_ZONES]
        return names if self.vegclass is None else [*names, *CLASS_NAMES]

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


def check_grid(
    data: xr.DataArray | xr.Dataset, like: xr.DataArray, *, source: str, variable: str
) -> xr.DataArray | xr.Dataset:
    """``data`` with ``like``'s lat/lon coordinates, checked to be on its grid (:func:`rhbench.grid.grid_mismatch`:
    float32 rounding passes, a real offset or a NaN coordinate does not).

    Raises :class:`CoordinateError` naming the source, the variable and the mismatch.
    """
    for coord in ("lat", "lon"):
        if coord not in data.coords:
            raise CoordinateError(
                "input lacks a coordinate",
                source=source,
                variable=variable,
                found=sorted(map(str, data.coords)),
                expected=coord,
            )
    why = grid_mismatch(data, like)
    if why is not None:
        raise CoordinateError(
            "input is not on the reference grid",
            source=source,
            variable=variable,
            found=why,
            expected=f"{like.sizes['lat']} x {like.sizes['lon']} cells of the reference grid",
        )
    return data.assign_coords(lat=like["lat"].values, lon=like["lon"].values)


def reference_rows(ref: Reference, tau_sd: float) -> list[ScoreRow]:
    """The reference's own rows: its totals, their uncertainty, regional values and map SDs.

    ``tau_sd`` is the SD of the global tau_soil over the cSoil products, yr. With
    ``ref.totals`` the totals, regional means and turnover times are the native-grid ones
    (:func:`native_reference_rows`).
    """
    name, kind = ref.name, "reference"
    if ref.totals is not None:
        return native_reference_rows(ref)
    rh = ref.rh.where(ref.land_mask)
    regions = ref.regions.astype("float64")  # once: every regional sum below is a product with it
    rh_totals = regional_totals(rh, ref.area, regions)
    product_totals = global_total(ref.csoil_products.where(ref.land_mask), ref.area, grams_per_unit=GRAMS_PER_KILOGRAM)
    tau = ratio_of_totals(ref.csoil, rh, ref.area, regions)
    rows = [
        row(name, kind, "rh_global", "global", float(rh_totals.sel(region="global"))),
        row(
            name,
            kind,
            "csoil_global",
            "global",
            float(global_total(ref.csoil, ref.area, grams_per_unit=GRAMS_PER_KILOGRAM)),
        ),
        row(name, kind, "csoil_global_sd", "global", float(product_totals.std(ddof=1))),
        row(name, kind, "tau_soil_global", "global", float(tau.sel(region="global"))),
        row(name, kind, "tau_soil_global_sd", "global", tau_sd),
    ]
    if ref.rh_global_sd is not None:
        rows.append(row(name, kind, "rh_global_sd", "global", ref.rh_global_sd))
    elif ref.rh_sd is not None:  # summing per-cell SDs would treat all cells as one error: ~4x too wide
        reason = "the product gives no SD of its ensemble members' global totals"
        rows.append(ScoreRow(name, kind, "rh_global_sd", "global", "Pg C yr-1", float("nan"), "skipped", reason))
    rows += regional_rows(name, kind, "rh_total", rh_totals)
    rows += regional_rows(name, kind, "rh_mean", regional_means(rh, ref.area, regions))
    rows += regional_rows(name, kind, "tau_soil", tau)
    rows += _map_sd_rows(ref, rh)
    return _without_csoil(ref, rows)


def _without_csoil(ref: Reference, rows: list[ScoreRow]) -> list[ScoreRow]:
    """``rows``, with every cSoil and turnover row skipped, saying why, when the run has no
    observed cSoil (Rh alone)."""
    if ref.has_csoil:
        return rows
    needs_csoil = {m.name for m in METRIC_TABLE if "csoil" in m.needs or m.name == "csoil_global_sd"}
    return [
        replace(r, value=float("nan"), status="skipped", reason=NO_OBSERVED_CSOIL) if r.metric in needs_csoil else r
        for r in rows
    ]


def native_reference_rows(ref: Reference) -> list[ScoreRow]:
    """:func:`reference_rows` from the products' native-grid totals (``ref.totals``); the
    Taylor SDs stay on the common grid. Each native total's reason names the grids and cell measures."""
    name, kind, obs = ref.name, "reference", ref.totals
    reason = obs.reason
    glob = {"region": "global"}
    rows = [
        row(name, kind, "rh_global", "global", float(obs.rh["rh_total"].sel(glob))),
        row(name, kind, "csoil_global", "global", float(obs.csoil.sel(glob))),
        row(name, kind, "csoil_global_sd", "global", float(obs.csoil_products.sel(glob).std(ddof=1))),
        row(name, kind, "tau_soil_global", "global", float(obs.tau_soil.sel(glob))),
        row(name, kind, "tau_soil_global_sd", "global", obs.tau_soil_sd),
    ]
    if ref.rh_global_sd is not None:
        rows.append(row(name, kind, "rh_global_sd", "global", ref.rh_global_sd))
    elif ref.rh_sd is not None:
        why = "the product gives no SD of its ensemble members' global totals"
        rows.append(ScoreRow(name, kind, "rh_global_sd", "global", "Pg C yr-1", float("nan"), "skipped", why))
    regions = ref.region_names
    regional = {"rh_total": obs.rh["rh_total"], "rh_mean": obs.rh["rh_mean"], "tau_soil": obs.tau_soil}
    for metric, values in regional.items():
        ordered = [str(r) for r in values["region"].values] == regions  # (then reindexing copies them as they are)
        rows += regional_rows(name, kind, metric, values if ordered else values.reindex(region=regions))
    rows = [_with_reason(r, reason) if r.region == "global" else r for r in rows]
    rh = ref.rh.where(ref.land_mask)
    rows += _map_sd_rows(ref, rh)
    return _without_csoil(ref, rows)


def _map_sd_rows(ref: Reference, rh: xr.DataArray) -> list[ScoreRow]:
    """The SDs of the reference's Rh and per-cell tau_soil maps over the vegetated cells; the
    tau_soil one says how many cells the Rh floor of :func:`tau_map` left out, if any.

    Computed on the (lat, lon) arrays of the reference's grid (every field of a :class:`Reference`
    is on it), each as :func:`~rhbench.metrics.taylor.taylor_statistics` and :func:`tau_floor_note` take it."""
    name, kind = ref.name, "reference"
    veg, rh_values, csoil, area = grid_values(ref.rh, ref.vegetated_mask, rh, ref.csoil, ref.area)
    veg = veg.astype(bool)
    rows = []
    for prefix, values in (("rh", rh_values), ("tau_soil", tau_values(csoil, rh_values))):
        rows.append(row(name, kind, f"{prefix}_taylor_sd", "global", weighted_sd(np.where(veg, values, np.nan), area)))
    note = tau_floor_note_values(veg & ~np.isnan(csoil) & ~np.isnan(rh_values), area, rh_values)
    return [_with_reason(r, note) if note and r.metric == "tau_soil_taylor_sd" else r for r in rows]


def _with_reason(score: ScoreRow, reason: str) -> ScoreRow:
    """``score`` with ``reason`` when it is ``ok`` (a skipped row keeps its own reason)."""
    if score.status != "ok" or score.reason:
        return score
    return dataclasses.replace(score, reason=reason)
