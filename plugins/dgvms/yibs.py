"""YIBs (TRENDY v9, S2): Yue and Unger 2015, Geosci. Model Dev. 8, 2399-2417."""

from benchmark.hookspecs import hookimpl
from benchmark.sources import Source, trendy_dgvm


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
