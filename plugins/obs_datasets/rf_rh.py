"""RF-Rh (rh): rhbench Random Forest upscaling of SRDB v5 site Rh (He et al., Global Change Biol., manuscript)."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="RF-Rh",
            kind="rh",
            catalog_entry="obs_datasets.RF-Rh",
            variables={
                "rh": Var("rh", "g C m-2 yr-1"),
            },
            citation="rhbench Random Forest upscaling of SRDB v5 site Rh (He et al., Global Change Biol., manuscript)",
            period=(1982, 2018),
        )
    ]
