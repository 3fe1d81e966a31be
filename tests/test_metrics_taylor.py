"""Tests of the Taylor statistics against hand calculations."""

import numpy as np
import pytest
import xarray as xr

from rhbench.errors import CoordinateError
from rhbench.metrics.taylor import taylor_score, taylor_statistics


def _da(values, lon=None) -> xr.DataArray:
    values = np.asarray(values, dtype=float)
    lon = np.arange(values.size, dtype=float) if lon is None else lon
    return xr.DataArray(values[None, :], dims=("lat", "lon"), coords={"lat": [0.0], "lon": lon})


def test_unweighted_statistics_by_hand():
    stats = taylor_statistics(_da([1, 2, 3, 4]), _da([2, 4, 6, 8]))
    assert stats["r"] == pytest.approx(1.0)
    assert stats["sd_ref"] == pytest.approx(np.sqrt(1.25))
    assert stats["sd_model"] == pytest.approx(np.sqrt(5.0))
    assert stats["crmse"] == pytest.approx(np.sqrt(1.25))
    assert stats["normalized_sd"] == pytest.approx(2.0)
    assert stats["bias"] == pytest.approx(2.5)
    assert stats["score"] == pytest.approx(2 * 2 / 2.5**2)  # 0.64
    assert stats["n"] == 4


def test_weighted_statistics_by_hand():
    # w = [1, 1, 2] -> normalised [.25, .25, .5]; means 2.75 and 3.25
    stats = taylor_statistics(_da([1, 2, 4]), _da([2, 1, 5]), weights=_da([1, 1, 2]))
    assert stats["sd_ref"] ** 2 == pytest.approx(1.6875)
    assert stats["sd_model"] ** 2 == pytest.approx(3.1875)
    assert stats["r"] == pytest.approx(2.0625 / np.sqrt(1.6875 * 3.1875))
    assert stats["crmse"] ** 2 == pytest.approx(0.75)
    assert stats["bias"] == pytest.approx(0.5)


def test_integer_weights_equal_duplicated_cells():
    weighted = taylor_statistics(_da([1, 2, 4]), _da([2, 1, 5]), weights=_da([1, 1, 2]))
    duplicated = taylor_statistics(_da([1, 2, 4, 4]), _da([2, 1, 5, 5]))
    for key in ("r", "sd_ref", "sd_model", "crmse", "bias", "score"):
        assert weighted[key] == pytest.approx(duplicated[key], rel=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_crmse_law_of_cosines_holds(weighted):
    rng = np.random.default_rng(42)
    ref = _da(rng.normal(300, 100, 500))
    model = _da(0.6 * ref.values[0] + rng.normal(50, 80, 500))
    weights = _da(rng.uniform(0.1, 2.0, 500)) if weighted else None
    s = taylor_statistics(ref, model, weights=weights)
    rhs = s["sd_ref"] ** 2 + s["sd_model"] ** 2 - 2 * s["sd_ref"] * s["sd_model"] * s["r"]
    assert abs(s["crmse"] ** 2 - rhs) < 1e-10 * s["sd_ref"] ** 2


def test_identical_fields_score_one_and_zero_crmse():
    field = _da(np.random.default_rng(1).uniform(0, 10, 50))
    stats = taylor_statistics(field, field, weights=_da(np.linspace(1, 2, 50)))
    assert stats["score"] == pytest.approx(1.0)
    assert stats["r"] == pytest.approx(1.0)
    assert stats["crmse"] == pytest.approx(0.0, abs=1e-12)
    assert taylor_score(1.0, 1.0) == 1.0
    # the form 4 (1 + r) / (2 (s + 1/s)^2) is the same expression
    assert taylor_score(0.5, 2.0) == pytest.approx(4 * 1.5 / (2 * 2.5**2))


def test_cells_missing_in_either_input_are_excluded_from_both():
    with_gaps = taylor_statistics(_da([1, 2, np.nan, 4, 100]), _da([2, 4, 9, 8, np.nan]))
    without = taylor_statistics(_da([1, 2, 4]), _da([2, 4, 8]))
    assert with_gaps["n"] == 3
    for key in ("r", "sd_ref", "sd_model", "crmse", "bias"):
        assert with_gaps[key] == pytest.approx(without[key])


def test_constant_field_gives_nan_correlation_not_noise():
    stats = taylor_statistics(_da([1, 2, 3]), _da([0.3, 0.3, 0.3]) * 3 / 3)
    assert np.isnan(stats["r"]) and np.isnan(stats["score"])
    assert stats["sd_model"] == pytest.approx(0.0, abs=1e-15)


def test_maps_on_different_grids_raise_coordinate_error():
    with pytest.raises(CoordinateError, match="same grid"):
        taylor_statistics(_da([1, 2]), _da([1, 2], lon=np.array([5.0, 6.0])))
