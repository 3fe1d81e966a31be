"""The unit memo (issue 18): pint's answers kept in the cache folder, equal to pint's, never trusted blindly."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xarray as xr

from rhbench import units
from rhbench.errors import UnitsError
from rhbench.unitmemo import UnitMemo

SPELLINGS = ["kg m-2 s-1", "g C m-2 yr-1", "g m-2 d-1", "t C ha-1", "Mg C ha-1", "kgC m-2", "%", "1", "K", "degC"]
PAIRS = [("kg m-2 s-1", "gC m-2 yr-1"), ("g m-2 d-1", "gC m-2 yr-1"), ("t C ha-1", "kgC m-2"), ("%", "1")]


@pytest.fixture
def memo(tmp_path, monkeypatch):
    """A fresh memo in ``tmp_path`` in place of the module's."""
    fresh = UnitMemo(lambda: "k" * 24, folder=tmp_path)
    monkeypatch.setattr(units, "_MEMO", fresh)
    return fresh


def _pint(text: str):
    unit = units.parse_units(text)
    return unit.dimensionality, units.registry().Quantity(1.0, unit)._is_multiplicative


def test_memoised_answers_are_pints_and_survive_a_reload(memo, tmp_path, monkeypatch):
    factors = {pair: units.conversion_factor(*pair) for pair in PAIRS}
    facts = {text: units.unit_facts(text) for text in SPELLINGS}
    monkeypatch.setattr(units, "_MEMO", UnitMemo(lambda: "k" * 24, folder=tmp_path))  # read back from the file
    for (a, b), factor in factors.items():
        assert units.conversion_factor(a, b) == factor  # bitwise: JSON floats round-trip
        assert factor == float(units.registry().Quantity(1.0, units.parse_units(a)).to(units.parse_units(b)).m)
    for text, fact in facts.items():
        assert units.unit_facts(text) == fact
        dimensionality, multiplicative = _pint(text)
        assert fact.text == str(dimensionality) and fact.multiplicative == multiplicative
    assert not units.unit_facts("degC").multiplicative and units.unit_facts("K").multiplicative
    assert units.same_dimension("g C m-2 yr-1", "kg m-2 s-1") and not units.same_dimension("kg m-2", "kg m-2 s-1")


def test_a_warm_memo_answers_without_building_pints_registry(memo, tmp_path, monkeypatch):
    data = xr.DataArray(np.array([1.0, 2.0], dtype=np.float32), name="rh", attrs={"units": "g m-2 d-1"})
    expected = units.convert(data, "gC m-2 yr-1", declared="kg m-2 s-1", source="S", file="f.nc")
    monkeypatch.setattr(units, "_MEMO", UnitMemo(lambda: "k" * 24, folder=tmp_path))
    units.registry.cache_clear()
    again = units.convert(data, "gC m-2 yr-1", declared="kg m-2 s-1", source="S", file="f.nc")
    assert units.same_dimension("g m-2 d-1", "gC m-2 yr-1")
    assert units.registry.cache_info().currsize == 0  # pint's registry was not built
    np.testing.assert_array_equal(again.values, expected.values)
    assert again.attrs["units"] == "gC m-2 yr-1"


def test_an_altered_memo_file_is_ignored(memo, tmp_path, monkeypatch):
    right = units.conversion_factor("t C ha-1", "kgC m-2")
    (path,) = tmp_path.glob("facts-*.json")
    document = json.loads(path.read_text())
    document["payload"]["factors"] = {key: 1000.0 for key in document["payload"]["factors"]}  # SHA-256 not updated
    path.write_text(json.dumps(document))
    monkeypatch.setattr(units, "_MEMO", UnitMemo(lambda: "k" * 24, folder=tmp_path))
    assert units.conversion_factor("t C ha-1", "kgC m-2") == right
    path.write_text("{not json")
    monkeypatch.setattr(units, "_MEMO", UnitMemo(lambda: "k" * 24, folder=tmp_path))
    assert units.conversion_factor("t C ha-1", "kgC m-2") == right


def test_errors_are_never_memoised_and_name_the_string_as_written(memo, tmp_path):
    for _ in range(2):
        with pytest.raises(UnitsError, match="g C blorps"):
            units.unit_facts("g C blorps")
    assert "blorps" not in "".join(p.read_text() for p in tmp_path.glob("facts-*.json"))
    with pytest.raises(UnitsError, match="wrong dimension"):
        units.conversion_factor("kg m-2", "kg m-2 s-1")


def test_an_unwritable_cache_folder_keeps_the_memo_in_memory(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setattr(units, "_MEMO", UnitMemo(lambda: "k" * 24, folder=blocker / "units"))
    assert units.conversion_factor("g C m-2", "kgC m-2") == pytest.approx(1e-3, rel=1e-15)
    assert units.conversion_factor("g C m-2", "kgC m-2") == pytest.approx(1e-3, rel=1e-15)


def test_the_memo_key_follows_pint_and_the_units_source(tmp_path):
    from rhbench.unitmemo import memo_key

    source = tmp_path / "units.py"
    source.write_text("a")
    first = memo_key(source)
    source.write_text("b")
    assert memo_key(source) != first and len(first) == 64
