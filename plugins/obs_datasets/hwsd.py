"""HWSD (csoil): Nachtergaele et al. 2010, HWSD v1.2, FAO/IIASA."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="HWSD",
            kind="csoil",
            catalog_entry="obs_datasets.HWSD",
            variables={
                "cSoil": Var("SOC", "kg C m-2"),
            },
            citation="Nachtergaele et al. 2010, HWSD v1.2, FAO/IIASA",
            quirks=frozenset({"lon_0_360", "fill_-99999"}),
        )
    ]
