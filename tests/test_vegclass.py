"""Tests of the IGBP -> paper vegetation class reclassification."""

import numpy as np
import pytest
import xarray as xr

from rhbench.errors import CoordinateError, ValueRangeError
from rhbench.vegclass import (
    CLASS_NAMES,
    NO_CLASS,
    class_code,
    class_masks,
    dominant_igbp,
    reclassify_igbp,
    vegetated,
    vegetation_classes,
)


def _igbp_map(codes: list[int], lat: float) -> xr.DataArray:
    return xr.DataArray(
        np.array([codes], dtype=float),
        dims=("lat", "lon"),
        coords={"lat": [lat], "lon": np.arange(len(codes), dtype=float)},
    )


def test_every_igbp_code_maps_to_its_paper_class_south_of_55n():
    out = reclassify_igbp(_igbp_map(list(range(18)), lat=10.0))
    expected = [
        NO_CLASS,
        1,
        2,
        3,
        4,
        5,
        6,
        6,
        7,
        7,
        8,
        NO_CLASS,
        9,
        NO_CLASS,
        9,
        NO_CLASS,
        NO_CLASS,
        NO_CLASS,
    ]
    assert out.values[0].tolist() == expected
    assert [CLASS_NAMES[c - 1] for c in expected if c] == [
        "ENF",
        "EBF",
        "DNF",
        "DBF",
        "MF",
        "Shrub",
        "Shrub",
        "Savanna",
        "Savanna",
        "Grassland",
        "Crop",
        "Crop",
    ]
    assert out.dtype == np.int8


def test_shrub_savanna_grass_north_of_55n_become_tundra_but_forests_and_crops_do_not():
    codes = [6, 7, 8, 9, 10, 1, 12]
    north = reclassify_igbp(_igbp_map(codes, lat=60.25)).values[0].tolist()
    tundra = class_code("Tundra")
    assert north == [tundra] * 5 + [class_code("ENF"), class_code("Crop")]
    at_55 = reclassify_igbp(_igbp_map([10], lat=55.0)).values[0].tolist()
    assert at_55 == [class_code("Grassland")]


def test_ndvi_below_threshold_masks_pixels_and_series_are_averaged():
    igbp = _igbp_map([1, 1, 1, 10], lat=0.0)
    series = xr.DataArray(
        np.array([[[0.05, 0.12, np.nan, 0.5]], [[0.05, 0.08, np.nan, 0.5]]]),
        dims=("year", "lat", "lon"),
        coords={"year": [1982, 1983], **igbp.coords},
    )
    out = reclassify_igbp(igbp, series)
    # means: 0.05 (masked), 0.10 (kept, not below 0.1), NaN (masked), 0.5 (kept)
    assert out.values[0].tolist() == [NO_CLASS, 1, NO_CLASS, class_code("Grassland")]


def test_scaled_ndvi_is_rejected_with_a_clear_error():
    igbp = _igbp_map([1], lat=0.0)
    with pytest.raises(ValueRangeError, match="NDVI"):
        reclassify_igbp(igbp, igbp * 0 + 5000.0)


def test_dominant_type_is_taken_from_fractions_with_igbp_type_coordinate():
    fractions = xr.DataArray(
        np.array([[[0.2, 0.1, np.nan]], [[0.7, 0.3, np.nan]], [[0.1, 0.6, np.nan]]]),
        dims=("type", "lat", "lon"),
        coords={"type": [0, 4, 12], "lat": [30.0], "lon": [0.0, 1.0, 2.0]},
    )
    dominant = dominant_igbp(fractions)
    assert dominant.values[0, :2].tolist() == [4.0, 12.0]
    assert np.isnan(dominant.values[0, 2])
    classes = vegetation_classes(fractions)
    assert classes.values[0].tolist() == [class_code("DBF"), class_code("Crop"), NO_CLASS]


def test_fractions_without_type_coordinate_use_layer_position_as_code():
    fractions = xr.DataArray(
        np.eye(17)[:, None, :],
        dims=("type", "lat", "lon"),
        coords={"lat": [0.0], "lon": np.arange(17.0)},
    )
    assert dominant_igbp(fractions).values[0].tolist() == list(range(17))


def test_fractions_without_type_dimension_raise_coordinate_error():
    with pytest.raises(CoordinateError, match="type"):
        dominant_igbp(_igbp_map([1], lat=0.0))


def test_class_masks_and_flag_attributes():
    out = reclassify_igbp(_igbp_map([1, 1, 10, 13], lat=0.0))
    masks = class_masks(out)
    assert list(masks) == list(CLASS_NAMES)
    assert int(masks["ENF"].sum()) == 2
    assert int(masks["Grassland"].sum()) == 1
    assert sum(int(m.sum()) for m in masks.values()) == 3
    assert int(vegetated(out).sum()) == 3
    assert out.attrs["flag_values"].tolist() == list(range(11))
    assert out.attrs["flag_meanings"].split() == ["none", *CLASS_NAMES]
    float_codes = out.astype(float).where(out > 0)
    assert int(class_masks(float_codes)["ENF"].sum()) == 2
