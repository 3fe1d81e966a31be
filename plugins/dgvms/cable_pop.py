"""CABLE-POP (TRENDY v9, S2): Haverd et al. 2018, Geosci. Model Dev. 11, 2995-3026."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "CABLE-POP",
            "Haverd et al. 2018, Geosci. Model Dev. 11, 2995-3026",
            quirks=("lon_0_360", "calendar_noleap", "time_days_since"),
        )
    ]
