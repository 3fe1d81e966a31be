"""LPJwsl (TRENDY v9, S2): Poulter et al. 2011, Global Change Biol. 17, 2081-2095."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "LPJwsl",
            "Poulter et al. 2011, Global Change Biol. 17, 2081-2095",
            quirks=("time_days_since", "lat_descending"),
        )
    ]
