"""The maps and zonal profiles behind the scorecard (``results.nc`` groups ``maps`` and ``zonal``).

Each map is over the years of the rows it illustrates (:mod:`rhbench.metrics.map_years`): Rh maps
from the period-mean fields of the Rh rows, turnover maps (and the biases and attribution drawn
from them) from the fields of the tau_soil rows (``tau_fields``: rh and cSoil over the years both have).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from rhbench.metrics import map_years
from rhbench.metrics.definitions import FLUX as _FLUX
from rhbench.metrics.reference import Reference
from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, zonal_profile
from rhbench.metrics.turnover import TauBiasAttribution, tau_map


@dataclass
class MapInputs:
    """What the maps of a run are drawn from, per source: its period-mean ``fields`` (those of its
    Rh and cSoil rows), its ``tau_fields`` (those of its tau_soil rows), its kind and the text of
    each field's years (:func:`rhbench.metrics.map_years.source_years`)."""

    period: tuple[int, int]
    fields: dict[str, dict[str, xr.DataArray]] = field(default_factory=dict)
    tau_fields: dict[str, dict[str, xr.DataArray]] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    years: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def of_reference(cls, ref: Reference, period: tuple[int, int]) -> MapInputs:
        """The inputs with the reference's fields (its Rh over ``ref.rh_years``, else the period)."""
        out = cls(period)
        both = {"rh": ref.rh_land, "csoil": ref.csoil}
        out.fields[ref.name], out.tau_fields[ref.name], out.kinds[ref.name] = both, both, "reference"
        rh_years = ref.rh_years or map_years.period_text(period)
        years = dict.fromkeys(map_years.FIELDS, rh_years) | {"csoil": map_years.file_years(ref.csoil, period)}
        if not ref.has_csoil:  # an all-missing map over no years, not a static one
            years |= dict.fromkeys(("csoil", "tau_soil"), map_years.NO_OBSERVED_CSOIL)
        out.years[ref.name] = map_years.drawn_only(years, both)
        return out

    def add(
        self, name: str, kind: str, found: dict[str, xr.DataArray], tau: dict[str, xr.DataArray], record: Mapping
    ) -> dict[str, xr.DataArray]:
        """Add source ``name`` (``record``: its years record); return ``tau``."""
        self.fields[name], self.tau_fields[name], self.kinds[name] = found, tau, kind
        self.years[name] = map_years.drawn_only(map_years.source_years(record, self.period), found | tau)
        return tau

    def of_kind(self, kind: str) -> dict[str, dict[str, xr.DataArray]]:
        """The tau fields of the sources of ``kind``."""
        return {name: tau for name, tau in self.tau_fields.items() if self.kinds[name] == kind}

    def datasets(self, attributions: dict[str, TauBiasAttribution], ref: Reference) -> dict[str, xr.Dataset]:
        """``maps`` (:func:`source_maps`) and ``zonal`` (:func:`zonal_profiles`), labelled with their years."""
        maps = source_maps(self.fields, self.tau_fields, self.kinds, attributions, ref)
        zonal = zonal_profiles(self.fields, self.tau_fields, self.kinds, ref)
        label = map_years.labelled
        return {"maps": label(maps, self.years, self.period), "zonal": label(zonal, self.years, self.period)}


def source_maps(
    fields: dict[str, dict[str, xr.DataArray]],
    tau_fields: dict[str, dict[str, xr.DataArray]],
    kinds: dict[str, str],
    attributions: dict[str, TauBiasAttribution],
    ref: Reference,
) -> xr.Dataset:
    """(source, lat, lon) maps: rh, tau_soil, rh_bias, tau_bias, attribution, tau_veg (float32); ``rh``
    and ``rh_bias`` from ``fields``, the others from ``tau_fields`` (see the module doc)."""
    nan = xr.full_like(ref.rh_land, np.nan)
    per_source = []
    for name, found in fields.items():
        rh = found.get("rh", nan)
        both = tau_fields.get(name, found)
        tau = tau_map(both["csoil"], both["rh"]) if "csoil" in both and "rh" in both else nan
        tau_veg = tau_map(both["cveg"], both["litterfall"]) if "cveg" in both and "litterfall" in both else nan
        attribution = attributions[name].maps["attribution"] if name in attributions else nan
        per_source.append(
            xr.Dataset(
                {
                    "rh": rh,
                    "tau_soil": tau,
                    "rh_bias": rh - ref.rh_land,
                    "tau_bias": tau - ref.tau_soil,
                    "attribution": attribution,
                    "tau_veg": tau_veg,
                }
            ).astype(np.float32)
        )
    maps = xr.concat(per_source, dim="source", coords="minimal", compat="override")
    maps = maps.assign_coords(source=list(fields), kind=("source", [kinds[n] for n in fields]))
    return _with_units(
        maps,
        {"rh": _FLUX, "tau_soil": "yr", "rh_bias": _FLUX, "tau_bias": "yr", "attribution": "1", "tau_veg": "yr"},
    )


def zonal_profiles(
    fields: dict[str, dict[str, xr.DataArray]],
    tau_fields: dict[str, dict[str, xr.DataArray]],
    kinds: dict[str, str],
    ref: Reference,
) -> xr.Dataset:
    """(source, lat) area-weighted zonal means of rh and cSoil (from ``fields``), and zonal tau_soil and
    tau_veg (from ``tau_fields``: ratios of the zonal means of their stock and flux where both are present)."""
    per_source = []
    nan = xr.full_like(ref.rh["lat"], np.nan, dtype=float)
    for name, found in fields.items():
        zonal = {"rh": nan, "csoil": nan}
        if found.get("rh") is not None:
            zonal["rh"] = zonal_profile(found["rh"], ref.area)
        if found.get("csoil") is not None:
            zonal["csoil"] = zonal_profile(found["csoil"], ref.area)
        both = tau_fields.get(name, found)
        for tau, stock, flux in (("tau_soil", "csoil", "rh"), ("tau_veg", "cveg", "litterfall")):
            zonal[tau] = _zonal_ratio(both.get(stock), both.get(flux), ref.area) if stock in both else nan
        per_source.append(xr.Dataset(zonal))
    out = xr.concat(per_source, dim="source", coords="minimal", compat="override")
    out = out.assign_coords(source=list(fields), kind=("source", [kinds[n] for n in fields]))
    return _with_units(out, {"rh": _FLUX, "csoil": "kg C m-2", "tau_soil": "yr", "tau_veg": "yr"})


def _zonal_ratio(stock: xr.DataArray, flux: xr.DataArray | None, area: xr.DataArray) -> xr.DataArray:
    """Zonal turnover time (yr): the zonal mean of ``stock`` (kg C m-2) x 1000 over that of ``flux``
    (g C m-2 yr-1), both over the cells where both are present (NaN without ``flux``)."""
    if flux is None:
        return xr.full_like(area["lat"], np.nan, dtype=float)
    both = stock.notnull() & flux.notnull()
    return zonal_profile(stock.where(both), area) * GRAMS_PER_KILOGRAM / zonal_profile(flux.where(both), area)


def _with_units(ds: xr.Dataset, units: dict[str, str]) -> xr.Dataset:
    for name, unit in units.items():
        ds[name].attrs.update(units=unit)
    return ds
