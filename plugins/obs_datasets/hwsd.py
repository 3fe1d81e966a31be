"""HWSD (csoil): Nachtergaele et al. 2010, HWSD v1.2, FAO/IIASA, as the 0.5 deg file ILAMB publishes.

`rhbench fetch HWSD` downloads ILAMB's ``cSoil/HWSD/soilc_0.5x0.5.nc`` (hash pinned in the
catalog, as ilamb3's data registry pins it). ILAMB names the variable ``cSoil`` (older copies
``soilc``); the preprocess accepts either.
"""

import xarray as xr

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


def _soilc_as_csoil(ds: xr.Dataset) -> xr.Dataset:
    """Rename ILAMB's alternate variable name ``soilc`` to ``cSoil``."""
    return ds.rename({"soilc": "cSoil"}) if "soilc" in ds and "cSoil" not in ds else ds


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="HWSD",
            kind="csoil",
            catalog_entry="obs_datasets.HWSD",
            variables={
                "cSoil": Var("cSoil", "kg m-2"),
            },
            citation="Nachtergaele et al. 2010, HWSD v1.2, FAO/IIASA",
            preprocess=_soilc_as_csoil,
        )
    ]
