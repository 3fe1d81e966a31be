"""Observed soil carbon from several products: global ones averaged where they overlap,
regional ones used only as their catalog entry says.

A cSoil product declares its ``domain`` in its catalog entry metadata: ``global`` (the
default) or ``regional`` (e.g. a permafrost-region map). A regional product also declares
``combine``:

- ``replace``: inside its footprint (the cells where it has data) it replaces the global
  products (every global product takes its value there);
- ``blend``: inside its footprint each global product becomes the mean of itself and the
  regional product (so the observed mean is half regional, half the global mean);
- absent: the product is not used for the observed cSoil (logged).

The global products are restricted to the cells where all of them have data, so that their
mean map and the spread of their totals (the SD of observed cSoil and tau_soil) are formed
over the same cells. A regional product is never averaged with global ones as if it covered
the land: its partial total would inflate the SD (issue 15: 573 Pg C).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

import xarray as xr

from rhbench.errors import CatalogError

log = logging.getLogger(__name__)

DOMAINS = ("global", "regional")
COMBINE_MODES = ("replace", "blend")


def declared_domain(name: str, metadata: Mapping) -> tuple[str, str | None]:
    """(domain, combine mode) of a cSoil product from its catalog entry metadata.

    Raises
    ------
    CatalogError
        For an unknown domain or combine mode, or a combine mode on a global product.
    """
    domain = metadata.get("domain", "global")
    combine = metadata.get("combine")
    if domain not in DOMAINS:
        raise CatalogError("unknown product domain", source=name, found=domain, expected=list(DOMAINS))
    if combine is not None and (domain != "regional" or combine not in COMBINE_MODES):
        raise CatalogError(
            "combine applies to regional products only",
            source=name,
            found=f"domain {domain}, combine {combine}",
            expected=f"domain regional with combine in {list(COMBINE_MODES)}",
        )
    return domain, combine


def combine_products(
    stack: xr.DataArray, declarations: Mapping[str, tuple[str, str | None]], *, product_dim: str = "product"
) -> xr.DataArray:
    """The global products (product, lat, lon) on their common cells, with the regional
    products applied as declared (module docstring). Units are those of ``stack``.

    Raises
    ------
    CatalogError
        When no product is declared global.
    """
    names = [str(p) for p in stack[product_dim].values]
    glob = [n for n in names if declarations.get(n, ("global", None))[0] == "global"]
    if not glob:
        raise CatalogError("no global cSoil product: regional products cannot stand for the land", found=names)
    products = stack.sel({product_dim: glob})
    products = products.where(products.notnull().all(product_dim))
    for name in names:
        domain, combine = declarations.get(name, ("global", None))
        if domain == "global":
            continue
        regional = stack.sel({product_dim: name}, drop=True)
        footprint = regional.notnull() & products.notnull().any(product_dim)
        if combine == "replace":
            products = xr.where(footprint, regional, products)
        elif combine == "blend":
            products = xr.where(footprint, (products + regional) / 2.0, products)
        else:
            log.info("regional cSoil product %s has no 'combine' entry: not used for the observed cSoil", name)
    return products.transpose(product_dim, ...).rename(stack.name)
