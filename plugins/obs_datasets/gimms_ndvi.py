"""GIMMS-NDVI3g (ndvi): Pinzon and Tucker 2014, Remote Sens. 6, 6929-6960."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="GIMMS-NDVI3g",
            kind="ndvi",
            catalog_entry="obs_datasets.GIMMS-NDVI3g",
            variables={
                "ndvi": Var("ndvi", "1"),
            },
            citation="Pinzon and Tucker 2014, Remote Sens. 6, 6929-6960",
            period=(1982, 2015),
            quirks=frozenset({"time_days_since"}),
        )
    ]
