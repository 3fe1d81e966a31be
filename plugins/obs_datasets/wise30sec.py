"""WISE30sec (csoil): Batjes 2016, Geoderma 269, 61-68."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="WISE30sec",
            kind="csoil",
            catalog_entry="obs_datasets.WISE30sec",
            variables={
                "cSoil": Var("cSoil", "kg C m-2"),
            },
            citation="Batjes 2016, Geoderma 269, 61-68",
        )
    ]
