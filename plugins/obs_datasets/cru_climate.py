"""CRU-TS4 (predictors): Harris et al. 2020, Sci. Data 7, 109 (CRU TS v4)."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="CRU-TS4",
            kind="predictors",
            catalog_entry="obs_datasets.CRU-TS4",
            variables={
                "tas": Var("tmp", "degC"),
                "pr": Var("pre", "mm month-1"),
            },
            citation="Harris et al. 2020, Sci. Data 7, 109 (CRU TS v4)",
            period=(1901, 2018),
            quirks=frozenset({"time_days_since"}),
        )
    ]
