"""SRDB-land-fraction (landfrac): the 0.5 deg fractional land grid shipped with SRDB v5.

``R/fractional_land.0.5-deg.nc`` of github bpbond/srdb (MIT): land fraction 0-1 computed
from the TBASE 5-minute data, ``data(time=1, lat, lon)``, latitudes north to south,
longitudes 0..360. Its ``units`` attribute ("0-1 from 5-min data") is not a unit:
:func:`preprocess` replaces it by ``1`` and drops the length-1 time axis.
"""

from __future__ import annotations

import xarray as xr

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


def preprocess(ds: xr.Dataset) -> xr.Dataset:
    """Drop the length-1 time axis and replace the free-text units by ``1``."""
    data = ds["data"]
    if "time" in data.dims:
        data = data.isel(time=0, drop=True)
    data = data.drop_vars([c for c in data.coords if c not in ("lat", "lon")])
    return data.assign_attrs(units="1").to_dataset(name="data")


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="SRDB-land-fraction",
            kind="landfrac",
            catalog_entry="obs_datasets.SRDB-land-fraction",
            variables={"sftlf": Var("data", "1")},
            citation="Fractional land from TBASE 5-minute data, shipped with SRDB v5 (Jian et al. 2021, MIT)",
            quirks=frozenset({"lat_descending", "lon_0_360"}),
            preprocess=preprocess,
        )
    ]
