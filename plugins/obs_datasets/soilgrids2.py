"""SoilGrids2 (csoil): Poggio et al. 2021, SOIL 7, 217-240 (SoilGrids 2.0; 0.5 deg by ILAMB-Data).

The 0.5 deg file ILAMB publishes (URL and hash in the catalog, as ilamb3's data registry pins
them; `rhbench fetch SoilGrids2`). Not part of the default observed cSoil mean (the paper's five
products): name it in the run config's `csoil_products` to use it.
"""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="SoilGrids2",
            kind="csoil",
            catalog_entry="obs_datasets.SoilGrids2",
            variables={
                "cSoil": Var("cSoil", "kg m-2"),
            },
            citation="Poggio et al. 2021, SOIL 7, 217-240 (SoilGrids 2.0; 0.5 deg by ILAMB-Data)",
        )
    ]
