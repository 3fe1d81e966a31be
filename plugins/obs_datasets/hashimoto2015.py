"""Hashimoto2015 (rh): Hashimoto et al. 2015, Biogeosciences 12, 4121-4132."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="Hashimoto2015",
            kind="rh",
            catalog_entry="obs_datasets.Hashimoto2015",
            variables={
                "rh": Var("co2", "g C m-2 yr-1"),
            },
            citation="Hashimoto et al. 2015, Biogeosciences 12, 4121-4132",
            period=(1965, 2012),
            quirks=frozenset({"time_days_since"}),
        )
    ]
