"""Regional cSoil products are used only as declared; global ones where they overlap (hand values)."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from rhbench.errors import CatalogError
from rhbench.metrics.soil_products import combine_products, declared_domain

NAN = np.nan


def _stack(**products) -> xr.DataArray:
    data = np.array([np.asarray(v, float) for v in products.values()])
    coords = {"product": list(products), "lat": [0.0, 60.0], "lon": [0.0, 1.0]}
    return xr.DataArray(data, dims=("product", "lat", "lon"), coords=coords, name="cSoil")


GLOBAL = {"A": [[10, 20], [30, NAN]], "B": [[12, 22], [50, 40]]}
PERMAFROST = [[NAN, NAN], [100, 80]]  # covers the northern row only


def test_global_products_are_restricted_to_their_common_cells():
    out = combine_products(_stack(**GLOBAL), {})
    np.testing.assert_allclose(out.sel(product="B"), [[12, 22], [50, NAN]])  # A lacks cell (60, 1)
    np.testing.assert_allclose(out.mean("product"), [[11, 21], [40, NAN]])


def test_a_regional_product_without_combine_is_left_out_of_the_observation():
    declared = {"P": ("regional", None)}
    out = combine_products(_stack(**GLOBAL, P=PERMAFROST), declared)
    assert list(out["product"].values) == ["A", "B"]
    # the SD of the global totals is that of the global products alone: cells (0,0), (0,1), (60,0)
    totals = out.sum(["lat", "lon"])
    assert float(totals.std(ddof=1)) == pytest.approx(np.std([60, 84], ddof=1))


def test_replace_and_blend_inside_the_footprint_only():
    replaced = combine_products(_stack(**GLOBAL, P=PERMAFROST), {"P": ("regional", "replace")})
    np.testing.assert_allclose(replaced.sel(product="A"), [[10, 20], [100, NAN]])
    np.testing.assert_allclose(replaced.sel(product="B"), [[12, 22], [100, NAN]])
    blended = combine_products(_stack(**GLOBAL, P=PERMAFROST), {"P": ("regional", "blend")})
    np.testing.assert_allclose(blended.sel(product="A"), [[10, 20], [65, NAN]])  # (30 + 100) / 2
    np.testing.assert_allclose(blended.mean("product"), [[11, 21], [70, NAN]])  # (40 + 100) / 2


def test_declarations_are_checked():
    assert declared_domain("X", {}) == ("global", None)
    assert declared_domain("P", {"domain": "regional", "combine": "blend"}) == ("regional", "blend")
    with pytest.raises(CatalogError, match="unknown product domain"):
        declared_domain("X", {"domain": "arctic"})
    with pytest.raises(CatalogError, match="regional products only"):
        declared_domain("X", {"combine": "replace"})
    with pytest.raises(CatalogError, match="no global cSoil product"):
        combine_products(_stack(P=PERMAFROST), {"P": ("regional", "replace")})
