"""DLEM (TRENDY v9, S2): Tian et al. 2015, Global Biogeochem. Cycles 29, 775-792."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "DLEM",
            "Tian et al. 2015, Global Biogeochem. Cycles 29, 775-792",
            variables=("rh", "npp", "cVeg", "cSoil", "cLitter"),
            quirks=("fill_-99999", "time_months_since"),
        )
    ]
