"""SRDB-V5 (sites): Jian et al. 2021, Earth Syst. Sci. Data 13, 255-267 (SRDB v5, MIT)."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="SRDB-V5",
            kind="sites",
            catalog_entry="obs_datasets.SRDB-V5",
            variables={
                "rh": Var("Rh_annual", "g C m-2 yr-1"),
            },
            citation="Jian et al. 2021, Earth Syst. Sci. Data 13, 255-267 (SRDB v5, MIT)",
        )
    ]
