"""YIBs (TRENDY v9, S2): Yue and Unger 2015, Geosci. Model Dev. 8, 2399-2417."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "YIBs",
            "Yue and Unger 2015, Geosci. Model Dev. 8, 2399-2417",
            variables=("rh", "npp", "cVeg", "cSoil"),
            quirks=("lon_0_360", "time_days_since"),
        )
    ]
