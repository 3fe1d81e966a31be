"""ORCHIDEE (TRENDY v9, S2): Krinner et al. 2005, Global Biogeochem. Cycles 19, GB1015."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "ORCHIDEE",
            "Krinner et al. 2005, Global Biogeochem. Cycles 19, GB1015",
            quirks=("calendar_noleap", "time_days_since", "pools_yearly"),
        )
    ]
