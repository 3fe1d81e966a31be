"""HWSD2 (csoil): HWSD v2.0, FAO/IIASA 2023 (0-1 m stocks by ILAMB-Data HWSD2/convert.py).

The 0.5 deg file ILAMB publishes (URL and hash in the catalog, as ilamb3's data registry pins
them; `rhbench fetch HWSD2`). Not part of the default observed cSoil mean (the paper's five
products): name it in the run config's `csoil_products` to use it.
"""

from rhbench.hookspecs import hookimpl
from rhbench.sources import Source, Var


@hookimpl
def rhbench_sources() -> list[Source]:
    return [
        Source(
            name="HWSD2",
            kind="csoil",
            catalog_entry="obs_datasets.HWSD2",
            variables={
                "cSoil": Var("cSoil", "kg m-2"),
            },
            citation="HWSD v2.0, FAO/IIASA 2023 (0-1 m stocks by ILAMB-Data HWSD2/convert.py)",
        )
    ]
