"""Konings2019 (rh): Konings et al. 2019, Biogeosciences 16, 2269-2284."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="Konings2019",
            kind="rh",
            catalog_entry="obs_datasets.Konings2019",
            variables={
                "rh": Var("rh", "g C m-2 yr-1"),
            },
            citation="Konings et al. 2019, Biogeosciences 16, 2269-2284",
            quirks=frozenset({"lon_0_360"}),
        )
    ]
