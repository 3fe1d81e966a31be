"""VISIT (TRENDY v9, S2): Kato et al. 2013, J. Land Use Sci. 8, 104-122."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "VISIT",
            "Kato et al. 2013, J. Land Use Sci. 8, 104-122",
            quirks=("time_years_since_ad",),
        )
    ]
