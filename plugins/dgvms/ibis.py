"""IBIS (TRENDY v9, S2): Yuan et al. 2014, Global Biogeochem. Cycles 28, 1225-1245."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "IBIS",
            "Yuan et al. 2014, Global Biogeochem. Cycles 28, 1225-1245",
            variables=("rh", "npp", "cVeg", "cSoil", "cLitter"),
            quirks=("lat_descending", "fill_1e20"),
        )
    ]
