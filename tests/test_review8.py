"""Review 8 (session 9): findings in the change since 33b5ae8 (docs/trust-cases.md, "Review 8").

Each test fails on the code before its fix unless its docstring says it pins behaviour.
"""

from __future__ import annotations

import pytest
import xarray as xr

from rhbench import catalog
from rhbench.sources import Source, Var
from tests.test_reliability_plugins import CATALOG  # an intake 2 catalog of one entry, {name}


@pytest.mark.parametrize("same_size", [True, False])
def test_an_edited_catalog_is_read_again_in_the_same_process(tmp_path, same_size):
    """R8-1: a third-party catalog edited in a long-lived process (a notebook re-running a benchmark
    after fixing a path) was served from the parse cache keyed by path alone: the old file was read.
    An edit at the same size within the file system's timestamp granularity is caught too."""
    (tmp_path / "thirdparty.yaml").write_text(
        CATALOG.format(name="Mine", rh="old/rh.nc", note="test"), encoding="utf-8"
    )
    source = Source(
        name="Mine",
        kind="dgvm",
        catalog_entry="thirdparty.Mine",
        variables={"rh": Var("rh", "kg m-2 s-1")},
        citation="test",
        catalog_dir=str(tmp_path),
    )
    catalog._load_catalog.cache_clear()
    assert catalog.entry_for(source).files == {"rh": "old/rh.nc"}
    edited = "new/rh.nc" if same_size else "corrected/path/rh.nc"
    (tmp_path / "thirdparty.yaml").write_text(CATALOG.format(name="Mine", rh=edited, note="test"), encoding="utf-8")
    assert catalog.entry_for(source).files == {"rh": edited}
    assert catalog.entry_for(source).files == {"rh": edited}  # and served from the cache again


def test_an_unchanged_catalog_is_still_parsed_once(tmp_path, monkeypatch):
    """R8-1 (pins issue 18's cut): reading the same unchanged catalog again does not parse it again."""
    path = tmp_path / "thirdparty.yaml"
    path.write_text(CATALOG.format(name="Mine", rh="a.nc", note="test"), encoding="utf-8")
    parsed = []
    real = catalog._safe_yaml
    monkeypatch.setattr(catalog, "_safe_yaml", lambda stream, loader: parsed.append(1) or real(stream, loader))
    catalog._load_catalog.cache_clear()
    for _ in range(3):
        assert catalog._load_catalog(path.resolve())["Mine"]["files"] == {"rh": "a.nc"}
    assert parsed == [1]


@pytest.mark.parametrize(
    "spelling",
    ["gC m-2 per month", "g C/(m2 month)", "gC/(m^2*month)", "gC m-2 mon-1", "g C/(m2 mon)", "gC/m2/mon"],
)
@pytest.mark.parametrize("annual", [True, False])
def test_every_spelling_of_an_amount_per_month_is_read_by_its_months_own_days(tmp_path, spelling, annual):
    """R8-3: B11-9 divides a per-month amount by each month's own days, but it recognised the month
    by a regular expression ('month-1', '/month'): 'per month' or '/(m2 month)', which pint reads
    as the same units, were converted with pint's mean month (30.44 days) for every month, silently
    (a boreal seasonal model +0.76 % a year, a noleap February +8.7 %). Now: the same numbers as 'g C m-2 month-1'."""
    from rhbench import loader
    from tests.test_audit11_trendy import _days, _rates, _write

    rates = _rates(seasonal=True)
    amounts = rates * 1000.0 * 86400.0 * _days("noleap")[:, None, None]  # each month's own total, grams

    def read(units: str) -> xr.DataArray:
        path = _write(tmp_path / f"rh-{abs(hash(units))}.nc", amounts, units)
        source = Source("M", "dgvm", "x.M", {"rh": Var("rh", units)}, "-", files={"rh": (str(path),)})
        return loader.open_variable(source, "rh", [path], annual=annual, in_memory=True)

    expected = read("g C m-2 month-1")
    xr.testing.assert_allclose(read(spelling), expected, rtol=1e-6)


def test_a_source_id_typed_alone_is_not_offered_another_models_members():
    """R8-4: A11-5's fallback matched every known name starting with the typed name and '-', so
    'CanESM5' was offered 'CanESM5-CanOE.r1i1p2f1' (another model, source_id CanESM5-CanOE). The
    '-' continues a typed 'source_id.sub_experiment' only (DCPP's 'CanESM5.s1960' -> its members)."""
    from rhbench.names import close_names

    known = ["CanESM5.r1i1p1f1", "CanESM5-CanOE.r1i1p2f1", "CanESM5.s1960-r1i1p1f1"]
    assert close_names("CanESM5", known) == ["CanESM5.r1i1p1f1", "CanESM5.s1960-r1i1p1f1"]
    assert close_names("canesm5-canoe", known) == ["CanESM5-CanOE.r1i1p2f1"]
    assert close_names("CanESM5.s1960", known) == ["CanESM5.s1960-r1i1p1f1"]


def test_an_edited_nc_gz_leaves_no_orphan_copy_but_a_copy_another_path_uses_is_kept(tmp_path, monkeypatch):
    """R8-7: A11-2 names a decompressed copy by the SHA-256 of its .nc.gz. An edit of the .nc.gz made a
    new copy and left the old one (as large as the data) for ever: each edit of a file added a full-size
    copy to the cache (the path-named format 2 replaced it). Now the copy no pointer names any more is
    removed when the edit is seen; one that another path's pointer still names (a second checkout of
    the same bytes) is kept."""
    import numpy as np

    from rhbench.readers import gunzip
    from tests.test_session8_gunzip import _packed

    monkeypatch.setenv("RHBENCH_CACHE", str(tmp_path / "cache"))
    first, second = tmp_path / "a" / "rh.nc.gz", tmp_path / "b" / "rh.nc.gz"
    for path in (first, second):
        path.parent.mkdir()
        _packed(path, np.arange(100.0))
    shared = gunzip.decompressed(first)
    assert gunzip.decompressed(second) == shared  # the same bytes: one copy
    _packed(first, np.arange(100.0) + 1)  # an edit of the first
    edited = gunzip.decompressed(first)
    assert edited != shared and shared.is_file()  # the second path still names the old copy
    _packed(second, np.arange(100.0) + 2)  # and of the second: nothing names the old copy now
    gunzip.decompressed(second)
    assert not shared.exists() and not shared.with_name(shared.name + gunzip.RECORD_SUFFIX).exists()
    copies = sorted(p.name for p in (tmp_path / "cache" / gunzip.FOLDER).glob("v3-*.nc"))
    assert len(copies) == 2 and edited.is_file()


def test_a_monthly_series_stamped_with_its_year_only_is_not_told_to_average_to_months(tmp_path):
    """R8-8: B11-3 reads a time axis in units 'year' as the calendar years. A monthly file stamped with
    its year only (2000 twelve times, then 2001 ...) was refused as 'time steps shorter than a month
    ... 48 steps in 4 months' with the fix 'cdo monmean': wrong advice (the file IS monthly). Now the
    error says the years repeat and how to stamp the months."""
    import numpy as np

    from rhbench import loader
    from rhbench.errors import TimeAxisError

    lat, lon = np.arange(-85.0, 90.0, 10.0), np.arange(-175.0, 180.0, 10.0)
    values = np.full((48, lat.size, lon.size), 1e-8, dtype="float32")
    ds = xr.Dataset(
        {"rh": (("time", "lat", "lon"), values, {"units": "kg m-2 s-1"})},
        coords={
            "time": ("time", np.repeat(np.arange(2000.0, 2004.0), 12), {"units": "year"}),
            "lat": ("lat", lat, {"units": "degrees_north"}),
            "lon": ("lon", lon, {"units": "degrees_east"}),
        },
    )
    path = tmp_path / "rh.nc"
    ds.to_netcdf(path)
    source = Source("M", "dgvm", "x.M", {"rh": Var("rh", "kg m-2 s-1")}, "-", files={"rh": (str(path),)})
    with pytest.raises(TimeAxisError) as caught:
        loader.open_variable(source, "rh", [path], annual=True)
    text = str(caught.value)
    assert "calendar years that repeat" in text and "2000 12 times" in text and "rh.nc" in text
    assert "monmean" not in text and "settaxis" in text
