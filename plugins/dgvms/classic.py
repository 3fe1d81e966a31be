"""CLASSIC (TRENDY v9, S2): Melton et al. 2020, Geosci. Model Dev. 13, 2825-2850."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "CLASSIC",
            "Melton et al. 2020, Geosci. Model Dev. 13, 2825-2850",
            quirks=("calendar_noleap", "time_days_since", "fill_1e20"),
        )
    ]
