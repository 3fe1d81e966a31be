"""The maps and zonal profiles' numpy paths and their xarray twins (rhbench.metrics.totals, "Numpy paths
and their xarray twins"): on the same plain maps each twin gives what its numpy path gives (values, NaNs,
dtypes, attributes, coordinates), and maps that are not plain take the twin. (The ensemble's twins are
held so by tests/test_speed_session10.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from rhbench.metrics import fields as fields_module
from rhbench.metrics.fields import source_maps, zonal_profiles
from tests.test_speed_session10 import _assert_same_dataset, _maps_inputs


def _spy(monkeypatch, name: str) -> list[int]:
    """Count the calls of ``fields_module.<name>`` (still running it)."""
    calls: list[int] = []
    real = getattr(fields_module, name)
    monkeypatch.setattr(fields_module, name, lambda *a: calls.append(1) or real(*a))
    return calls


@pytest.mark.parametrize("seed, with_csoil", [(0, True), (1, False)])
def test_the_maps_twin_gives_the_maps_of_the_numpy_path(seed, with_csoil, monkeypatch):
    inputs = _maps_inputs(seed, with_csoil=with_csoil)
    twin_calls = _spy(monkeypatch, "_concatenated_maps")
    on_arrays = source_maps(*inputs)
    assert not twin_calls  # plain maps on the reference's grid: the numpy path
    monkeypatch.setattr(fields_module, "_stacked_maps", lambda *a: None)  # as for maps that are not plain
    by_xarray = source_maps(*inputs)
    assert twin_calls
    _assert_same_dataset(by_xarray, on_arrays)
    assert np.isfinite(on_arrays["rh_bias"].values).any()


@pytest.mark.parametrize("seed, first", [(0, "observations"), (1, "A"), (2, "C")])
def test_the_zonal_twin_gives_the_profiles_of_the_numpy_path(seed, first, monkeypatch):
    fields, tau_fields, kinds, _, ref = _maps_inputs(seed)
    fields = {first: fields[first], **fields}  # the first source's attributes are the output's
    tau_fields["C"] = {"csoil": fields["C"]["csoil"]}  # a stock without a flux: an all-NaN ratio
    twin_calls = _spy(monkeypatch, "_concatenated_zonal")
    on_arrays = zonal_profiles(fields, tau_fields, kinds, ref)
    assert not twin_calls
    monkeypatch.setattr(fields_module, "_stacked_zonal", lambda *a: None)
    by_xarray = zonal_profiles(fields, tau_fields, kinds, ref)
    assert twin_calls
    _assert_same_dataset(by_xarray, on_arrays)
    assert np.isfinite(on_arrays["tau_soil"].values).any()


def test_profiles_of_a_map_with_another_coordinate_take_the_twin_with_the_same_values(monkeypatch):
    fields, tau_fields, kinds, _, ref = _maps_inputs(4)
    plain = zonal_profiles(fields, tau_fields, kinds, ref)
    fields["B"] = {"rh": fields["B"]["rh"].assign_coords(height=2.0)}  # a scalar coordinate: not a plain map
    twin_calls = _spy(monkeypatch, "_concatenated_zonal")
    other = zonal_profiles(fields, tau_fields, kinds, ref)
    assert twin_calls
    for name in fields_module.ZONAL_UNITS:
        np.testing.assert_array_equal(other[name].values, plain[name].values)
