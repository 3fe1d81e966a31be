"""JSBACH (TRENDY v9, S2): Reick et al. 2021, J. Adv. Model. Earth Syst. 13, e2020MS002240."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "JSBACH",
            "Reick et al. 2021, J. Adv. Model. Earth Syst. 13, e2020MS002240",
            quirks=("lon_0_360", "time_days_since"),
        )
    ]
