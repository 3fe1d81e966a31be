"""ORCHIDEE-CNP (TRENDY v9, S2): Goll et al. 2017, Geosci. Model Dev. 10, 3745-3770."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "ORCHIDEE-CNP",
            "Goll et al. 2017, Geosci. Model Dev. 10, 3745-3770",
            quirks=("calendar_noleap", "time_days_since", "fill_1e20"),
        )
    ]
