"""Warner2019 (rh): Warner et al. 2019, Global Biogeochem. Cycles 33, 1733-1745."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="Warner2019",
            kind="rh",
            catalog_entry="obs_datasets.Warner2019",
            variables={
                "rh": Var("Rh", "g C m-2 yr-1"),
            },
            citation="Warner et al. 2019, Global Biogeochem. Cycles 33, 1733-1745",
            quirks=frozenset({"lat_descending"}),
        )
    ]
