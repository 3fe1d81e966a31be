"""Fractional land 0.5 deg (kind landfrac): the documented land mask of native-grid totals.

The land fraction (0-1) of each 0.5 degree cell, computed from the TBASE 5-minute
elevation data and shipped with SRDB (bpbond/srdb, ``R/fractional_land.0.5-deg.nc``, MIT).
rhbench uses it for a model that provides no land fraction of its own
(:mod:`rhbench.landfrac`). ``rhbench fetch land-fraction`` downloads it (sha256 pinned).
"""

import xarray as xr

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


def _fraction(ds: xr.Dataset) -> xr.Dataset:
    """The file's units attribute reads '0-1 from 5-min data' (a fraction); its time axis is one step."""
    ds = ds.isel(time=0, drop=True) if "time" in ds.dims else ds
    ds["data"].attrs["units"] = "1"
    return ds


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="land-fraction",
            kind="landfrac",
            catalog_entry="obs_datasets.land-fraction",
            variables={"sftlf": Var("data", "1")},
            citation="Fractional land 0.5 deg from TBASE 5-min data, shipped with SRDB (Jian et al. 2021; MIT)",
            preprocess=_fraction,
        )
    ]
