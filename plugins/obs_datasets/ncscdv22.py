"""NCSCDV22 (csoil): Hugelius et al. 2013, ESSD 5, 3-13 and 393-402 (NCSCD v2.2, permafrost region).

The 0.5 deg file ILAMB publishes (URL and hash in the catalog, as ilamb3's data registry pins
them; `rhbench fetch NCSCDV22`). Not part of the default observed cSoil mean (the paper's five
products): name it in the run config's `csoil_products` to use it.
"""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="NCSCDV22",
            kind="csoil",
            catalog_entry="obs_datasets.NCSCDV22",
            variables={
                "cSoil": Var("cSoilAbove1m", "kg m-2"),
            },
            citation="Hugelius et al. 2013, ESSD 5, 3-13 and 393-402 (NCSCD v2.2, permafrost region)",
        )
    ]
