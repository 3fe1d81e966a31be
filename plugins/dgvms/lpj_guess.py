"""LPJ-GUESS (TRENDY v9, S2): Smith et al. 2014, Biogeosciences 11, 2027-2054."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "LPJ-GUESS",
            "Smith et al. 2014, Biogeosciences 11, 2027-2054",
            variables=("rh", "npp", "cVeg", "cSoil", "fVegLitter"),
            quirks=("litter_in_soil", "gzip", "time_days_since"),
        )
    ]
