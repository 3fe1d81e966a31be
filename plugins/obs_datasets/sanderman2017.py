"""Sanderman2017 (csoil): Sanderman et al. 2017, PNAS 114, 9575-9580.

The product is the published GeoTIFF ``SOCS/SOCS_0_100cm_year_2010AD_10km.tif`` of
github whrc/Soil-Carbon-Debt (commit-pinned in the catalog, ``rhbench fetch Sanderman2017``):
soil organic carbon stock of 0-100 cm in year 2010 AD, Mg C ha-1, one int16 band on a 1/12
degree EPSG:4326 grid with nodata -32767. A GeoTIFF has no variable names or units: the
GeoTIFF reader (:mod:`rhbench.readers.geotiff`) names the band ``SOCS`` and masks nodata;
the units are the ones declared here.
"""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="Sanderman2017",
            kind="csoil",
            catalog_entry="obs_datasets.Sanderman2017",
            variables={
                "cSoil": Var("SOCS", "Mg C ha-1"),
            },
            citation="Sanderman et al. 2017, PNAS 114, 9575-9580",
        )
    ]
