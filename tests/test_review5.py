"""Review 5 (session 7): an independent read of the session's changes (docs/trust-cases.md, "Review 5").

Each test failed on the code before its fix: a false failure of the gate on legitimate CI use,
a key-file race, or a yearly time axis read one year off without a word.
"""

from __future__ import annotations

import os

import pytest
from test_gate_audit9 import _check, _run_folder

from rhbench.errors import ConfigError
from rhbench.report import manifest


@pytest.fixture(autouse=True)
def _no_key(monkeypatch):
    for name in (manifest.KEY_ENV, manifest.KEY_FILE_ENV, manifest.CONTEXT_ENV):
        monkeypatch.delenv(name, raising=False)


KEY = "r5" * 20


def _committed_baseline(tmp_path, key: str | None = None):
    """A baseline run folder, signed with ``key`` or not, of which only scorecard.json and
    manifest.json are committed to the repository (results.nc is large and binary)."""
    if key is not None:
        os.environ[manifest.KEY_ENV] = key
    try:
        base = _run_folder(tmp_path / "base")
        manifest.write_manifest(base.parent, key.encode() if key else None)
    finally:
        os.environ.pop(manifest.KEY_ENV, None)
    for name in (manifest.RESULTS_NC, manifest.CMEC_JSON, manifest.RUN_JSON, "scores.csv", ".rhbench-output"):
        (base.parent / name).unlink()
    return base


@pytest.mark.parametrize("key", [None, KEY])
def test_r5_1_a_baseline_committed_without_its_large_siblings_passes_saying_what_was_compared(
    tmp_path, capsys, monkeypatch, key
):
    """R5-1: a baseline is read for its scorecard only; results.nc etc. not committed beside it failed
    the gate ('listed in manifest.json but missing'), signed or not."""
    base = _committed_baseline(tmp_path, key)
    if key is not None:
        monkeypatch.setenv(manifest.KEY_ENV, key)
    current = _run_folder(tmp_path / "out")
    manifest.write_manifest(current.parent, key.encode() if key else None)
    code, out = _check(capsys, current, base)
    assert code == 0, out
    assert "not present beside it" in out and "results.nc" in out, out
    if key is not None:
        assert "baseline: signed: HMAC-SHA256 of 1 file verified" in out, out


def test_r5_1b_an_edited_baseline_scorecard_still_fails_when_its_siblings_are_absent(tmp_path, capsys):
    base = _committed_baseline(tmp_path)
    base.write_text(base.read_text().replace('"synthetic": false', '"synthetic": false '))
    current = _run_folder(tmp_path / "out")
    code, out = _check(capsys, current, base)
    assert code == 1 and "the baseline's scorecard.json is not the file the run wrote" in out, out


def test_r5_1c_the_current_runs_missing_outputs_still_fail(tmp_path, capsys):
    """Only a baseline may lack its siblings: the current run's outputs are the gate's subject."""
    base = _run_folder(tmp_path / "base")
    current = _run_folder(tmp_path / "out")
    (current.parent / manifest.RESULTS_NC).unlink()
    code, out = _check(capsys, current, base)
    assert code == 1 and "results.nc is listed in manifest.json but missing" in out, out


def _to_crlf(path):
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


@pytest.mark.parametrize("key", [None, KEY])
def test_r5_2_a_baseline_checked_out_with_crlf_line_endings_passes_saying_so(tmp_path, capsys, monkeypatch, key):
    """R5-2: git core.autocrlf (the default of Git for Windows) turns a committed scorecard.json /
    scores.csv into CRLF: the gate failed it as 'edited, truncated or swapped after the run'."""
    if key is not None:
        monkeypatch.setenv(manifest.KEY_ENV, key)
    base = _run_folder(tmp_path / "base")
    current = _run_folder(tmp_path / "out")
    for folder in (base.parent, current.parent):
        manifest.write_manifest(folder, key.encode() if key else None)
    for name in ("scorecard.json", "scores.csv"):
        _to_crlf(base.parent / name)
    code, out = _check(capsys, current, base)
    assert code == 0, out
    assert "line endings" in out and "CRLF" in out, out
    code, out = _check(capsys, current.parent / "scores.csv", base.parent / "scores.csv")
    assert code == 0, out


def test_r5_2b_a_crlf_file_with_changed_content_still_fails(tmp_path, capsys):
    base = _run_folder(tmp_path / "base")
    current = _run_folder(tmp_path / "out")
    csv = base.parent / "scores.csv"
    csv.write_bytes(csv.read_bytes().replace(b"\n", b"\r\n").replace(b"dgvm", b"DGVM", 1))
    code, out = _check(capsys, current, base)
    assert code == 1 and "the baseline's scores.csv is not the file the run wrote" in out, out


def test_r5_3_the_key_read_is_the_key_file_whose_mode_was_checked(tmp_path, monkeypatch):
    """R5-3: the key file was checked by name (``stat``) and then read by name: a file swapped in
    between (here a world-readable one with another key) was read with the first file's check."""
    key_file = tmp_path / "gate.key"
    key_file.write_text(KEY + "\n")
    key_file.chmod(0o600)
    swapped = tmp_path / "swapped.key"
    swapped.write_text("w" * 40)
    swapped.chmod(0o644)
    real_stat = type(key_file).stat

    def stat_then_swap(self, *args, **kwargs):
        info = real_stat(self, *args, **kwargs)
        if self == key_file:
            os.replace(swapped, key_file)
        return info

    monkeypatch.setattr(type(key_file), "stat", stat_then_swap)
    monkeypatch.setenv(manifest.KEY_FILE_ENV, str(key_file))
    assert manifest.gate_key() == KEY.encode()


def test_r5_3b_a_fifo_as_key_file_is_refused_without_blocking(tmp_path, monkeypatch):
    fifo = tmp_path / "gate.key"
    os.mkfifo(fifo, 0o600)
    monkeypatch.setenv(manifest.KEY_FILE_ENV, str(fifo))
    with pytest.raises(ConfigError, match="not a regular file"):
        manifest.gate_key()


def test_r5_4_yearly_end_stamps_re_written_by_xarray_are_read_as_an_assumption_warned_of(tmp_path, caplog):
    """R5-4: year ends 1998-2004 stamped 1999-01-01 .. 2005-01-01, written by xarray from decoded times
    (xarray's default units count from the first stamp: 'days since 1999-01-01', first value 0), under a
    plugin period of 2000-2004. The reference-date rule reads them as year starts, a year late; before
    this fix that was logged at INFO and stated as evidence. It is now a warning naming the file and
    saying it is an assumption, how it can be wrong and what decides (time bounds)."""
    import logging

    import netCDF4
    import numpy as np
    import pandas as pd
    import xarray as xr
    from test_time_stamps import _years

    years_true = np.arange(1998, 2005)
    field = np.broadcast_to(years_true[:, None, None] * 1e-9, (7, 2, 2)).copy()
    path = tmp_path / "rh.nc"
    xr.Dataset(
        {"rh": (("time", "lat", "lon"), field, {"units": "kg m-2 s-1"})},
        coords={
            "time": pd.to_datetime([f"{y}-01-01" for y in range(1999, 2006)]),
            "lat": [-45.0, 45.0],
            "lon": [-90.0, 90.0],
        },
    ).to_netcdf(path)
    with netCDF4.Dataset(path) as ds:
        assert ds["time"].units.startswith("days since 1999-01-01") and ds["time"][0] == 0  # xarray's default
    with caplog.at_level(logging.WARNING):
        years, _, attrs = _years(path, (2000, 2004))
    assert years.tolist() == list(range(1999, 2006))  # the assumption: a year late for this file
    for text in (attrs["time_stamps"], caplog.text):
        assert "ASSUMED year starts" in text and "re-written by xarray" in text and "time_bnds" in text, text
    assert "rh.nc" in caplog.text


def test_r5_2c_the_first_line_names_how_far_a_crlf_current_scorecard_was_verified_and_no_more(tmp_path, capsys):
    """The first line's verification is the verdict's level ('digest only, not signed'), not the
    note about line endings that follows it."""
    base = _run_folder(tmp_path / "base")
    current = _run_folder(tmp_path / "out")
    _to_crlf(current)
    code, out = _check(capsys, current, base)
    assert code == 0, out
    first = out.splitlines()[0]
    assert first.endswith("; digest only, not signed") and "line endings" not in first, first
    assert "line endings of scorecard.json converted to CRLF" in out, out


def _yearly_file(path, values, units, years):
    """rh(time, lat, lon) at yearly stamps ``values`` in ``units`` (noleap), year y holding y x 1e-9."""
    import numpy as np
    import xarray as xr

    ds = xr.Dataset(coords={"lat": [-45.0, 45.0], "lon": [-90.0, 90.0]})
    ds = ds.assign_coords(time=("time", np.asarray(values, float), {"units": units, "calendar": "noleap"}))
    field = np.broadcast_to(np.asarray(years, float)[:, None, None] * 1e-9, (len(years), 2, 2)).copy()
    ds["rh"] = (("time", "lat", "lon"), field, {"units": "kg m-2 s-1"})
    ds.to_netcdf(path)
    return path


#: TRENDY-like yearly files stamped at 1 January without bounds, under the TRENDY v9 plugins' period
#: 1901-2018: (units, first year, years, time value of the first stamp in units) -> read right or refused.
_TRENDY_LAYOUTS = {
    "days since 1700, 1700-2019": ("days since 1700-01-01", 1700, 320, 0, "right"),
    "days since 1700, 1700-2022": ("days since 1700-01-01", 1700, 323, 0, "right"),
    "years since 1860, 1860-2019": ("years since 1860-01-01", 1860, 160, 0, "right"),
    "VISIT years since AD 1700, 1700-2021": ("years since AD 1700-Jan-1st", 1700, 322, 0, "right"),
    "hours since 1860, 1860-2020": ("hours since 1860-01-01 00:00:00", 1860, 161, 0, "right"),
    "days since 1901, 1901-2018": ("days since 1901-01-01", 1901, 118, 0, "right"),
    "CLM-style year ends of 1700-2019, days since 1700": ("days since 1700-01-01", 1700, 320, 1, "refused"),
    "starts 1901-2019, days since 1850": ("days since 1850-01-01", 1901, 119, 51, "refused"),
}


@pytest.mark.parametrize("layout", sorted(_TRENDY_LAYOUTS))
def test_r5_5_trendy_yearly_layouts_are_read_right_or_refused_never_a_year_off(tmp_path, layout):
    """R5-5 (looked at, fine): the session-7 rule on TRENDY-like yearly files past the plugin period.
    Before it, 'days since 1700-01-01' from 1700 and 'years since 1860' were read a year early
    (1699-2018) and the VISIT / hours layouts were refused; now each is read right or refused."""
    import numpy as np
    from test_time_stamps import _years

    from rhbench.errors import TimeAxisError

    units, first, count, offset, outcome = _TRENDY_LAYOUTS[layout]
    step = {"days": 365, "hours": 365 * 24}.get(units.split()[0], 1)
    years_in = np.arange(first, first + count)
    values = (np.arange(count) + offset) * step
    path = _yearly_file(tmp_path / "rh.nc", values, units, years_in)
    if outcome == "refused":
        with pytest.raises(TimeAxisError, match="cannot tell whether each stamp starts its year"):
            _years(path, (1901, 2018))
        return
    years, values_read, _ = _years(path, (1901, 2018))
    assert years.tolist() == years_in.tolist() and values_read.tolist() == years_in.tolist()


def _declared_years(path, period, year_stamps):
    """(years read, each year's value, attrs) of ``path``'s rh under a source declaring ``year_stamps``."""
    import dataclasses

    import numpy as np
    from test_time_stamps import _source

    from rhbench import loader

    source = dataclasses.replace(_source(period), year_stamps=year_stamps)
    data = loader.open_variable(source, "rh", path, annual=True).load()
    seconds = 1e-3 / (365.25 * 86400)
    return data["year"].values, np.round(data.isel(lat=0, lon=0).values * seconds / 1e-9, 6), data.attrs


def test_r5_4b_a_plugin_declaring_year_end_stamps_reads_re_written_and_clm_style_files_right(tmp_path, caplog):
    """R5-4's remedy: ``Source.year_stamps = "end"`` settles what the files cannot: CLM-style year ends
    1701..2020 counted from 1700 (refused without it) and year ends re-written with the first stamp
    as reference (read a year late without it) are read as the years they end, without a warning."""
    import logging

    import numpy as np

    clm = _yearly_file(tmp_path / "clm.nc", np.arange(1, 321) * 365, "days since 1700-01-01", np.arange(1700, 2020))
    rewritten = _yearly_file(tmp_path / "xr.nc", np.arange(7) * 365, "days since 1999-01-01", np.arange(1998, 2005))
    for path, period, years_in in ((clm, (1901, 2018), np.arange(1700, 2020)), (rewritten, (2000, 2004), None)):
        years_in = np.arange(1998, 2005) if years_in is None else years_in
        caplog.clear()
        with caplog.at_level(logging.WARNING):
            years, values, attrs = _declared_years(path, period, "end")
        assert years.tolist() == years_in.tolist() and values.tolist() == years_in.tolist()
        assert "END of each year" in attrs["time_stamps"] and "declares year_stamps='end'" in attrs["time_stamps"]
        assert "ASSUMED" not in attrs["time_stamps"]


def test_r5_4c_a_declaration_the_file_name_contradicts_fails_naming_both(tmp_path):
    import numpy as np

    from rhbench.errors import TimeAxisError

    path = _yearly_file(
        tmp_path / "rh_2000-2004.nc", np.arange(5) * 365, "days since 2000-01-01", np.arange(2000, 2005)
    )
    with pytest.raises(TimeAxisError) as info:
        _declared_years(path, (2000, 2004), "end")
    text = str(info.value)
    assert "file name says 2000-2004" in text and "declares year_stamps='end'" in text and "disagrees" in text


def test_r5_4d_year_stamps_is_validated_and_keys_the_product_cache(tmp_path):
    import dataclasses

    from test_time_stamps import _source

    from rhbench.cache import _descriptor
    from rhbench.errors import PluginError

    with pytest.raises(PluginError, match="year_stamps must be 'start', 'end' or None"):
        dataclasses.replace(_source(None), year_stamps="middle").validate()
    plain = _source(None)
    assert _descriptor(plain, "pkg") != _descriptor(dataclasses.replace(plain, year_stamps="end"), "pkg")
    assert "year_stamps" not in _descriptor(plain, "pkg")  # undeclared: the key of before


def test_r5_7_a_baseline_refreshed_without_its_manifest_fails_saying_what_to_copy(tmp_path, capsys):
    """R5-7: a new run's scorecard.json copied over the baseline's, its old manifest.json kept: the
    failure (right: the file is not the one the manifest lists) now says what to do."""
    import shutil

    base = _run_folder(tmp_path / "base")
    current = _run_folder(tmp_path / "out")
    from test_report_check import BASELINE

    from rhbench.results import ScoreRow

    units = {m: "1" if m.endswith("_score") else "Pg C yr-1" for _, m, _, _ in BASELINE}
    rows = [ScoreRow(s, "dgvm", m, "global", units[m], v * 1.001) for s, m, v, _ in BASELINE]
    newer = _run_folder(tmp_path / "newer", rows)  # the refreshed baseline's run
    shutil.copyfile(newer, base)
    code, out = _check(capsys, current, base)
    assert code == 1 and "copy that run's manifest.json with them" in out, out
