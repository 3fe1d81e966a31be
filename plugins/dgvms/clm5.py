"""CLM5.0 (TRENDY v9, S2): Lawrence et al. 2019, J. Adv. Model. Earth Syst. 11, 4245-4287."""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, trendy_dgvm


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        trendy_dgvm(
            "CLM5.0",
            "Lawrence et al. 2019, J. Adv. Model. Earth Syst. 11, 4245-4287",
            quirks=("lon_0_360", "calendar_noleap", "time_days_since", "pools_yearly"),
        )
    ]
