"""DALEC2 (clitter): Bloom et al. 2016, PNAS 113, 1285-1290 (CARDAMOM/DALEC2)."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="DALEC2",
            kind="clitter",
            catalog_entry="obs_datasets.DALEC2",
            variables={
                "cLitter": Var("cLitter", "g C m-2"),
            },
            citation="Bloom et al. 2016, PNAS 113, 1285-1290 (CARDAMOM/DALEC2)",
            period=(2001, 2010),
        )
    ]
