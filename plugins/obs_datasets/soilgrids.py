"""SoilGrids (csoil): Hengl et al. 2017, PLoS ONE 12, e0169748."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="SoilGrids",
            kind="csoil",
            catalog_entry="obs_datasets.SoilGrids",
            variables={
                "cSoil": Var("ocs", "t C ha-1"),
            },
            citation="Hengl et al. 2017, PLoS ONE 12, e0169748",
            quirks=frozenset({"latitude_longitude_names"}),
        )
    ]
