"""The maps and zonal profiles behind the scorecard (``results.nc`` groups ``maps`` and ``zonal``)."""

from __future__ import annotations

import numpy as np
import xarray as xr

from rhbench.metrics.definitions import FLUX as _FLUX
from rhbench.metrics.reference import Reference
from rhbench.metrics.totals import GRAMS_PER_KILOGRAM, zonal_profile
from rhbench.metrics.turnover import TauBiasAttribution, tau_map


def source_maps(
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


def zonal_profiles(fields: dict[str, dict[str, xr.DataArray]], kinds: dict[str, str], ref: Reference) -> xr.Dataset:
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
