"""MCD12C1 (landcover): Friedl and Sulla-Menashe 2015, MODIS MCD12C1 v006 (2001)."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="MCD12C1",
            kind="landcover",
            catalog_entry="obs_datasets.MCD12C1",
            variables={
                "landCoverFrac": Var("Land_Cover_Type_1_Percent", "%"),
            },
            citation="Friedl and Sulla-Menashe 2015, MODIS MCD12C1 v006 (2001)",
            period=(2001, 2001),
        )
    ]
