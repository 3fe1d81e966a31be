"""ISAM (TRENDY v9, S2): Meiyappan et al. 2015, Global Biogeochem. Cycles 29, 1524-1548."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "ISAM",
            "Meiyappan et al. 2015, Global Biogeochem. Cycles 29, 1524-1548",
            quirks=("time_hours_since", "latitude_longitude_names"),
        )
    ]
