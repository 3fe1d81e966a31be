"""LPJwsl (TRENDY v9, S2): Poulter et al. 2011, Global Change Biol. 17, 2081-2095."""

from benchmark.hookspecs import hookimpl
from benchmark.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "LPJwsl",
            "Poulter et al. 2011, Global Change Biol. 17, 2081-2095",
            quirks=("time_days_since", "lat_descending"),
        )
    ]
