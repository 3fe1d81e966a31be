"""SDGVM (TRENDY v9, S2): Walker et al. 2017, New Phytol. 215, 1370-1386."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "SDGVM",
            "Walker et al. 2017, New Phytol. 215, 1370-1386",
            variables=("rh", "npp", "cVeg", "cSoil", "cLitter"),
            quirks=("fill_-99999", "gzip", "calendar_360_day", "time_days_since"),
        )
    ]
