"""Sanderman2017 (csoil): Sanderman et al. 2017, PNAS 114, 9575-9580."""

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
            quirks=frozenset({"fill_1e20"}),
        )
    ]
