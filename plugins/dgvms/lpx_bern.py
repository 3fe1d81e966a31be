"""LPX-Bern (TRENDY v9, S2): Lienert and Joos 2018, Biogeosciences 15, 2909-2930."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "LPX-Bern",
            "Lienert and Joos 2018, Biogeosciences 15, 2909-2930",
            quirks=("latitude_longitude_names", "lat_descending", "calendar_noleap", "time_days_since"),
        )
    ]
