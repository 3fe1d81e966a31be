"""Tang2020 (rh): Tang et al. 2020, Earth Syst. Sci. Data 12, 1037-1051."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="Tang2020",
            kind="rh",
            catalog_entry="obs_datasets.Tang2020",
            variables={
                "rh": Var("RH", "g C m-2 yr-1"),
            },
            citation="Tang et al. 2020, Earth Syst. Sci. Data 12, 1037-1051",
            period=(1980, 2016),
            quirks=frozenset({"time_years_since_ad"}),
        )
    ]
