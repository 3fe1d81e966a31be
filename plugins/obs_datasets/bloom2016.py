"""Bloom2016 (csoil): Bloom et al. 2016, PNAS 113, 1285-1290."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="Bloom2016",
            kind="csoil",
            catalog_entry="obs_datasets.Bloom2016",
            variables={
                "cSoil": Var("cSoil", "g C m-2"),
            },
            citation="Bloom et al. 2016, PNAS 113, 1285-1290",
            quirks=frozenset({"lat_descending"}),
        )
    ]
