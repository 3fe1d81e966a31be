"""ISBA-CTRIP (TRENDY v9, S2): Delire et al. 2020, J. Adv. Model. Earth Syst. 12, e2019MS001886."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "ISBA-CTRIP",
            "Delire et al. 2020, J. Adv. Model. Earth Syst. 12, e2019MS001886",
            quirks=("time_hours_since", "calendar_noleap"),
        )
    ]
