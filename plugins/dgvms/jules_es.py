"""JULES-ES (TRENDY v9, S2): Wiltshire et al. 2021, Geosci. Model Dev. 14, 2161-2186."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "JULES-ES",
            "Wiltshire et al. 2021, Geosci. Model Dev. 14, 2161-2186",
            quirks=("calendar_360_day", "time_days_since", "latitude_longitude_names"),
        )
    ]
