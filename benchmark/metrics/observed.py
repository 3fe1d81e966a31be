"""Totals of the observation products on their own (native) grids, with cell area x land fraction.

Like a model's (:mod:`rhbench.metrics.native`), every total of an observation product (the
reference Rh, the prior Rh products, the cSoil products and the litter product) is a sum of
``value x cell area x land fraction`` over the product's own cells, before any regridding,
so that it does not depend on the common grid's resolution. Cell area and land fraction
come from the product when it declares them (``areacella``, ``sftlf``, ``oceanCoverFrac``,
``landArea``), else from the spherical cell areas (from the file's bounds when present) and
the documented land mask (source ``land-fraction``) remapped onto the product's grid, else
every cell with data counts as land (:mod:`rhbench.landfrac`); :attr:`ObservedTotals.notes`
says which, per product, and the reference's rows carry it as their reason.

Observed cSoil is the mean over the global cSoil products of their native totals, plus the
litter product's native total; each product is summed over its own land (the common-grid
maps restrict the products to their common cells instead). The observed tau_soil of a
region is the observed cSoil total over the reference Rh total, both on native grids; its
SD is the SD of that ratio over the cSoil products. Regions are those of
:func:`rhbench.metrics.native.native_regions` (vegetation classes sampled from the
reference's class map at the product's cell centres). Maps and Taylor statistics stay on
the common grid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import xarray as xr

from rhbench import harmonize
from rhbench.errors import ConfigError, RhbenchError
from rhbench.metrics.native import native_regions, native_totals
from rhbench.results import Failures
from rhbench.sources import Source


@dataclass(frozen=True)
class ObservedTotals:
    """Native-grid totals per region of the observations.

    Attributes
    ----------
    rh: the reference's :func:`~rhbench.metrics.native.native_totals` (``rh_total`` Pg C
        yr-1, ``rh_mean`` g C m-2 yr-1, ``coverage``, ``land_area`` m2) over ``region``.
    csoil_products: (product, region) cSoil + cLitter total of each cSoil product, Pg C.
    notes: source name -> its native grid and where its cell measures came from.
    """

    rh: xr.Dataset
    csoil_products: xr.DataArray
    notes: dict[str, str]

    @cached_property
    def csoil(self) -> xr.DataArray:
        """(region) observed cSoil + cLitter: mean of the products' native totals, Pg C (NaN
        without a cSoil product)."""
        if self.csoil_products.sizes["product"] == 0:
            regions = self.csoil_products["region"].values
            return xr.DataArray(np.full(regions.size, np.nan), dims=("region",), coords={"region": regions})
        return self.csoil_products.mean("product")

    @cached_property
    def tau_soil(self) -> xr.DataArray:
        """(region) observed tau_soil = observed cSoil total / reference Rh total, yr."""
        return turnover(self.csoil, self.rh["rh_total"])

    @property
    def tau_soil_sd(self) -> float:
        """SD (ddof 1) of the global tau_soil over the cSoil products, yr (NaN with one product)."""
        per_product = turnover(self.csoil_products.sel(region="global"), self.rh["rh_total"].sel(region="global"))
        return float(per_product.std(ddof=1)) if per_product.sizes["product"] > 1 else float("nan")

    @property
    def reason(self) -> str:
        """One line for the reference's rows: native grids and cell measures of every product."""
        grouped: dict[str, list[str]] = {}
        for name, note in self.notes.items():
            grouped.setdefault(note, []).append(name)
        return "totals on native grids: " + "; ".join(f"{', '.join(n)}: {note}" for note, n in grouped.items())

    def prior(self, totals: xr.Dataset) -> xr.Dataset:
        """A prior Rh product's native ``totals`` (``rh_total`` Pg C yr-1 per region) with ``tau_soil`` (yr)
        and ``csoil_total`` (Pg C) from the observed cSoil."""
        tau = turnover(self.csoil, totals["rh_total"])
        return totals.assign(tau_soil=tau, csoil_total=self.csoil.reindex(region=totals["region"].values))


def turnover(csoil: xr.DataArray, rh: xr.DataArray) -> xr.DataArray:
    """Ratio of totals cSoil (Pg C) / Rh (Pg C yr-1), yr; NaN where Rh is not positive."""
    if "region" in csoil.dims and not np.array_equal(rh["region"].values, csoil["region"].values):
        rh = rh.reindex(region=csoil["region"].values)
    return (csoil / rh.where(rh > 0)).assign_attrs(units="yr")


def source_totals(
    source: Source,
    variable: str,
    root: Path | None,
    period: tuple[int, int],
    *,
    land_mask: xr.DataArray | None,
    vegclass: xr.DataArray | None,
    band_width: float = 10.0,
    read: harmonize.NativeMean | None = None,
) -> tuple[xr.Dataset, str]:
    """:func:`~rhbench.metrics.native.native_totals` of one product's ``variable`` on its own grid.

    ``variable`` is a canonical name (``rh`` in g C m-2 yr-1; ``cSoil`` or ``cLitter`` in
    kg C m-2, both reported as ``csoil_total``, Pg C). ``read``: the product already read
    (:func:`rhbench.harmonize.period_means_once` over ``period``): its variables and period
    mean are used, not read again. Returns the totals and a note on the grid and the cell
    measures. Raises the loader's :class:`~rhbench.errors.RhbenchError`.
    """
    opened = None if read is None else read.opened
    annual, cells = harmonize.load_native(source, root, land_mask=land_mask, opened=opened, in_memory=True)
    if read is not None and read.variable == variable:
        field = read.mean
    else:
        field = harmonize.period_mean_float64(annual[variable], period, source=source.name)
    cells = cells.resolved(field.to_dataset(name=variable))
    regions = native_regions(field, vegclass=vegclass, band_width=band_width)
    name = "rh" if variable == "rh" else "cSoil"
    totals = native_totals(xr.Dataset({name: field}), cells.weights, regions)
    lat, lon = field["lat"].values, field["lon"].values
    note = f"{lat.size} x {lon.size} cells, {_spacing(lat)} x {_spacing(lon)} deg, {cells.origin}"
    return totals, note


def _spacing(values: np.ndarray) -> str:
    return f"{float(np.median(np.abs(np.diff(values)))):.3g}" if values.size > 1 else "?"


@dataclass(frozen=True)
class NativeReader:
    """Reads observation products on their native grids (:func:`source_totals`) for a run.

    ``root`` the data root, ``period`` the benchmark years, ``land_mask`` the documented
    0-1 land mask, ``vegclass`` the reference's class map; a failure is recorded in ``failures``.
    ``read``: source name -> that product already read over ``period``
    (:func:`rhbench.harmonize.period_means_once`; the reference: not read again).
    """

    root: Path | None
    period: tuple[int, int]
    land_mask: xr.DataArray | None
    vegclass: xr.DataArray | None
    failures: Failures
    read: Mapping[str, harmonize.NativeMean] = dataclasses.field(default_factory=dict)

    def totals(self, source: Source, variable: str, notes: dict[str, str] | None = None) -> xr.Dataset | None:
        """``source``'s native totals of ``variable`` (Pg C yr-1 for a flux, Pg C for a stock, per region);
        None (recorded) on failure."""
        try:
            totals, note = source_totals(
                source,
                variable,
                self.root,
                self.period,
                land_mask=self.land_mask,
                vegclass=self.vegclass,
                read=self.read.get(source.name),
            )
        except RhbenchError as exc:
            self.failures.record(source.name, exc)
            return None
        if notes is not None:
            notes[source.name] = note
        return totals

    def observed(self, used: dict[str, list[Source]], *, with_csoil: bool = True) -> ObservedTotals:
        """The reference's, the global cSoil products' and the litter product's native totals.

        ``with_csoil`` False (a run without a cSoil product): the reference Rh alone, its
        cSoil and turnover times NaN, so its totals are still value x cell area x land
        fraction on its own grid, as every model's are.
        """
        notes: dict[str, str] = {}
        rh = self.totals(used["rh"][0], "rh", notes)
        if rh is None:
            raise ConfigError("the reference Rh cannot be read on its native grid", source=used["rh"][0].name)
        if not with_csoil:
            none = np.empty((0, rh.sizes["region"]))
            coords = {"product": [], "region": rh["region"].values}
            return ObservedTotals(rh, xr.DataArray(none, dims=("product", "region"), coords=coords), notes)
        litter = next((t for s in used["clitter"] if (t := self.totals(s, "cLitter", notes)) is not None), None)
        soils = {s.name: t["csoil_total"] for s in used["csoil"] if (t := self.totals(s, "cSoil", notes)) is not None}
        if not soils:
            raise ConfigError("no cSoil product can be read on its native grid", found=sorted(self.failures.reasons))
        stack = xr.concat(list(soils.values()), dim="product").assign_coords(product=list(soils))
        if litter is not None:
            stack = stack + litter["csoil_total"].reindex(region=stack["region"].values).fillna(0.0)
        return ObservedTotals(rh, stack.rename("csoil_total"), notes)
