"""New-user walkthrough (docs/user-walkthrough.md): what a plugin author's mistakes now say.

Each case is one a user hit following the README: a typo in a model name or in the
entry-point group, a variable named otherwise in the file, a variable the model does not
write, unreadable units, 137 failed rows of one cause, a reason with [brackets] in the
plugins table, and a plugin that needs non-TRENDY units.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, EntryPoints
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import xarray as xr

from rhbench import loader, readers, registry, units
from rhbench.commands import run as run_command
from rhbench.config import RunConfig
from rhbench.errors import ConfigError, DataError, MissingVariableError, UnitsError
from rhbench.pipeline import Outcome
from rhbench.registry import BrokenPlugin, Registry
from rhbench.results import Results, ScoreRow
from rhbench.selection import check_models as _check_models
from rhbench.sources import trendy_dgvm


def _registry(*names: str, broken: tuple[BrokenPlugin, ...] = ()) -> Registry:
    found = Registry()
    for name in names:
        found.sources[name] = trendy_dgvm(name, "test")
    found.broken.extend(broken)
    return found


def test_an_unknown_model_name_suggests_the_close_one_and_what_to_do():
    with pytest.raises(ConfigError) as caught:
        _check_models(RunConfig(models=("MYDGVN", "CLM5")), _registry("MYDGVM", "CLM5.0", "JSBACH"))
    text = str(caught.value)
    assert "did you mean 'MYDGVM' for 'MYDGVN'?" in text
    assert "did you mean 'CLM5.0' for 'CLM5'?" in text
    assert "[project.entry-points.rhbench]" in text and "rhbench plugins" in text


def test_an_unknown_model_name_names_the_plugins_that_failed_to_load():
    broken = BrokenPlugin("mydgvm", "rhbench-mydgvm 0.1.0", "import of 'rhbench_mydgvn' failed: ModuleNotFoundError")
    with pytest.raises(ConfigError) as caught:
        _check_models(RunConfig(models=("MYDGVM",)), _registry("CLM5.0", broken=(broken,)))
    text = str(caught.value)
    assert "1 plugin(s) failed to load: mydgvm (rhbench-mydgvm 0.1.0): import of 'rhbench_mydgvn'" in text
    assert "did you mean" not in text  # nothing close among the loaded names


def test_an_entry_point_in_a_misspelt_group_is_listed_as_broken(monkeypatch, caplog):
    installed = EntryPoints(
        [
            EntryPoint("mydgvm", "rhbench_mydgvm", "rhbnech"),
            EntryPoint("other", "rhbench_other", "rhbench.plugins"),
            EntryPoint("rh", "some_pkg:main", "console_scripts"),  # unrelated: left alone
        ]
    )
    monkeypatch.setattr(registry, "metadata", SimpleNamespace(entry_points=lambda: installed))
    found = Registry()
    with caplog.at_level(logging.WARNING):
        registry._misplaced_entry_points(found)
    assert [b.name for b in found.broken] == ["other", "mydgvm"]  # groups in sorted order
    reason = found.broken[1].reason
    assert "entry point 'mydgvm = rhbench_mydgvm' is in group 'rhbnech', not 'rhbench'" in reason
    assert "to fix: name the table [project.entry-points.rhbench]" in reason
    assert "plugin mydgvm is broken" in caplog.text


def test_the_installed_packages_have_no_misplaced_entry_point():
    """rhbench's own groups (and this environment's) are not flagged: no false alarm on every run."""
    found = Registry()
    registry._misplaced_entry_points(found)
    assert found.broken == []


def test_the_plugins_table_shows_a_reason_with_brackets_as_written(monkeypatch, capsys):
    from rhbench.commands import plugins

    reason = "to fix: name the table [project.entry-points.rhbench] in pyproject.toml"
    found = _registry("MYDGVM", broken=(BrokenPlugin("x", "pkg 1", reason),))
    monkeypatch.setattr(plugins.cmip6, "registry_for", lambda args: (found, None))
    monkeypatch.setenv("COLUMNS", "300")
    code = plugins.run(SimpleNamespace(json=False, data_root=None, config=None, cmip6=None))
    assert code == 0
    assert "[project.entry-points.rhbench]" in capsys.readouterr().out


def _file(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"MYDGVM_S2_{name}.nc"
    data = xr.DataArray(
        np.full((2, 3, 4), 1e-8, dtype="float32"),
        dims=("time", "lat", "lon"),
        coords={"time": [182.0, 547.0], "lat": [-30.0, 0.0, 30.0], "lon": [0.0, 90.0, 180.0, 270.0]},
        attrs={"units": "kg m-2 s-1"},
    )
    data.coords["time"].attrs.update(units="days since 2000-01-01", calendar="noleap")
    data.to_dataset(name=name).to_netcdf(path)
    return path


def test_a_variable_named_otherwise_in_the_file_says_which_rename_to_declare(tmp_path):
    source = trendy_dgvm("MYDGVM", "test", variables=("rh",))
    with pytest.raises(MissingVariableError) as caught:
        loader.open_variable(source, "rh", _file(tmp_path, "Rh_het"))
    text = str(caught.value)
    assert "found: ['Rh_het']; expected: rh" in text
    assert "to fix: if the file names this variable otherwise, declare renames={'rh': 'Rh_het'}" in text
    renamed = trendy_dgvm("MYDGVM", "test", variables=("rh",), renames={"rh": "Rh_het"})
    loaded = loader.open_variable(renamed, "rh", tmp_path / "MYDGVM_S2_Rh_het.nc").compute()  # the fix works
    assert loaded.name == "rh" and float(loaded.max()) > 0


def test_a_missing_file_says_where_it_was_looked_for_and_what_to_do(tmp_path):
    with pytest.raises(DataError) as caught:
        readers.open_file(tmp_path / "MYDGVM_S2_cLitter.nc", variable="cLitter", source="MYDGVM")
    text = str(caught.value)
    assert "data file not found; source: MYDGVM" in text and "variable: cLitter" in text
    assert "rhbench data" in text and "remove it from the plugin's variables and the catalog's files" in text


def test_unreadable_file_units_name_the_declared_units_and_the_fix():
    with pytest.raises(UnitsError) as caught:
        units.check_units("foo", "g m-2 yr-1", declared="kg m-2 s-1", source="S", file="f.nc", variable="rh")
    text = str(caught.value)
    assert "found: 'foo'; expected: kg m-2 s-1" in text  # the plugin's declaration, not rhbench's internal unit
    assert "to fix: write UDUNITS units" in text and "Var(name, units)" in text
    # an amount without its time (B11-18): first the per-step hint, then the same fix
    with pytest.raises(UnitsError, match=r"to fix: an amount per time step .*; otherwise write UDUNITS units"):
        units.check_units("kg m-2", "g m-2 yr-1", declared="kg m-2 s-1", variable="rh")


def test_trendy_dgvm_takes_the_units_of_files_that_are_not_in_trendy_units(tmp_path):
    source = trendy_dgvm("MYDGVM", "test", variables=("rh", "cSoil"), units={"rh": "g m-2 d-1"})
    assert source.variables["rh"].units == "g m-2 d-1"
    assert source.variables["cSoil"].units == "kg m-2"  # TRENDY's default kept
    path = _file(tmp_path, "rh")
    with xr.open_dataset(path) as ds:
        ds = ds.load()
    ds["rh"] = ds["rh"] * 0 + 2.0
    ds["rh"].attrs = {}  # no units attribute: the declaration applies
    ds.to_netcdf(tmp_path / "daily.nc")
    loaded = loader.open_variable(source, "rh", tmp_path / "daily.nc").compute()
    assert float(loaded.max()) == pytest.approx(2.0 * 365.25, rel=1e-6)  # g m-2 d-1 -> g m-2 yr-1
    with pytest.raises(ValueError, match=r"renames/units name variables \['cLitter'\]"):
        trendy_dgvm("MYDGVM", "test", variables=("rh",), units={"cLitter": "kg m-2"})


def test_many_failed_rows_of_one_cause_are_one_line(caplog):
    reason = "implausible rh_global = 7.6e-07 Pg C yr-1 (likely a units error)"
    rows = [
        ScoreRow("MYDGVM", "dgvm", "rh_total", f"band{i}", "Pg C yr-1", float("nan"), "failed", reason)
        for i in range(137)
    ]
    other = ScoreRow("CLM5.0", "dgvm", "rh_global", "global", "Pg C yr-1", float("nan"), "failed", "other")
    outcome = Outcome(Results(rows=[*rows, other]), None, False, failures={})
    with caplog.at_level(logging.WARNING):
        run_command._failure_summary(outcome)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("failed row")]
    assert lines == [
        f"failed row MYDGVM / rh_total / band0: {reason} [and 136 more rows of MYDGVM with this reason]",
        "failed row CLM5.0 / rh_global / global: other",
    ]
    assert "exit 3: 138 failed rows from CLM5.0, MYDGVM" in caplog.text


def test_totals_from_an_areacella_that_is_not_the_sphere_say_so_in_their_rows():
    from rhbench import landfrac

    rows = [
        ScoreRow("ESM", "dgvm", "rh_global", "global", "Pg C yr-1", 1.12),
        ScoreRow("ESM", "dgvm", "rh_total", "tropical", "Pg C yr-1", 0.69, reason="years used: 2000-2014"),
        ScoreRow("ESM", "dgvm", "rh_taylor_score", "global", "1", 0.42),  # on the common grid: no note
        ScoreRow("GOOD", "dgvm", "rh_global", "global", "Pg C yr-1", 50.0),
    ]
    regions = {"ESM": xr.Dataset(attrs={"area_sum_error": -0.977}), "GOOD": xr.Dataset(attrs={}), "X": None}
    noted = landfrac.note_area_sums(rows, regions)
    note = "the source's areacella sums to 2.3 % of the sphere's area: totals use it as given"
    assert noted[0].reason.startswith(note) and noted[0].value == 1.12 and noted[0].status == "ok"
    assert noted[1].reason.startswith("years used: 2000-2014; " + note)
    assert noted[2].reason == "" and noted[3].reason == ""
    assert landfrac.note_area_sums(noted, regions) == noted  # said once


@pytest.mark.shared_data
def test_the_real_cmip6_sample_totals_carry_the_areacella_note():
    """The decimated ACCESS-ESM1-5 sample's areacella (native areas, 2.3 % of the sphere) reaches
    the rows through the reduced products' attributes, as in a run."""
    from rhbench import cmip6, grid, harmonize, landfrac, reduce
    from tests.conftest import shared_data_path

    (source,) = cmip6.discover(shared_data_path("cmip6-sample"), variables=("gpp",))
    annual, cells = harmonize.load_native(source, None)
    products = reduce.reduce_native(annual, cells, grid.common_grid(2.0), (2000, 2014))
    row = ScoreRow(source.name, "dgvm", "rh_global", "global", "Pg C yr-1", 1.0)
    (noted,) = landfrac.note_area_sums([row], {source.name: products.regions})
    assert "areacella sums to 2.3 % of the sphere's area" in noted.reason


def test_an_implausible_total_says_where_to_look_for_the_units_error():
    from rhbench import plausibility

    row = ScoreRow("MYDGVM", "dgvm", "rh_global", "global", "Pg C yr-1", 7.6e-07)
    reason = plausibility.implausible_reason(row)
    assert reason.startswith("implausible rh_global = 7.6e-07 Pg C yr-1, expected 1..1000 Pg C yr-1")
    assert "`rhbench data`" in reason and "units its plugin declares" in reason


def test_the_upscaled_totals_csv_carries_the_data_label_on_every_row(tmp_path):
    """upscaling/totals.csv (the RF product's global and regional Rh totals) read 51.99 Pg C/yr
    with no label in a demo run; like scores.csv it now says SYNTHETIC on every row."""
    import argparse

    import pandas as pd

    from rhbench.commands import upscale
    from tests.test_upscaling_product import synthetic_grids, synthetic_srdb

    grids = synthetic_grids()
    csv, nc = tmp_path / "srdb.csv", tmp_path / "predictors.nc"
    synthetic_srdb(grids, n=120).to_csv(csv, index=False)
    grids.to_netcdf(nc)
    parser = argparse.ArgumentParser()
    upscale.add_parser(parser.add_subparsers())
    argv = ["upscale", "--srdb", str(csv), "--predictors", str(nc), "--out", str(tmp_path / "out"), "--quick"]
    assert upscale.run(parser.parse_args(argv)) == 0
    totals = pd.read_csv(tmp_path / "out" / "totals.csv")
    assert "global" in set(totals["region"]) and list(totals.columns)[-1] == "data_label"
    assert set(totals["data_label"]) == {"SYNTHETIC"}


def test_a_model_without_clitter_is_told_its_soil_carbon_is_csoil_alone(caplog):
    from rhbench import harmonize

    soil = xr.DataArray(np.ones((2, 2)), dims=("lat", "lon"), name="cSoil")
    without = trendy_dgvm("NOLIT", "test", variables=("rh", "cSoil"))
    with caplog.at_level(logging.INFO, logger="rhbench.harmonize"):
        out = harmonize._soil_with_litter(without, {"cSoil": soil})
    assert out.attrs["includes_litter"] == 0
    assert "NOLIT: no cLitter and cSoil not declared to include litter" in caplog.text
    caplog.clear()
    included = trendy_dgvm("INLIT", "test", variables=("rh", "cSoil"), quirks=("litter_in_soil",))
    with caplog.at_level(logging.INFO, logger="rhbench.harmonize"):
        assert harmonize._soil_with_litter(included, {"cSoil": soil}).attrs["includes_litter"] == 1
    assert "no cLitter" not in caplog.text


def test_a_model_outside_the_benchmark_period_is_told_how_to_set_it():
    from rhbench.metrics.coverage import coverage_rows

    attrs = {"period_coverage": 15 / 37, "period_years": "2000-2014", "period_years_used": 15}
    (row,) = coverage_rows("ESM", "dgvm", xr.Dataset(attrs=attrs), None, None, None)
    assert row.status == "failed"
    assert row.reason.startswith("years used: 2000-2014 (15 years): below 80% of the benchmark period")
    assert "set period = [FIRST, LAST] in the run's --config TOML" in row.reason


def test_every_figure_of_a_synthetic_run_page_names_the_label_in_its_alt_text(small_demo_run):
    """The PNG titles said SYNTHETIC but the alt text (screen readers, the contents list) did not."""
    import re

    import pandas as pd

    outcome, _ = small_demo_run
    page = (outcome.out_dir / "index.html").read_text()
    alts = re.findall(r'<img src="data:image/png;base64,[^"]*" alt="([^"]*)"', page)
    assert len(alts) >= 20 and all(alt.endswith("(SYNTHETIC)") for alt in alts), alts
    toc = page[page.index('<nav class="toc"') : page.index("</nav>")]
    assert toc.count("(SYNTHETIC)") == len(alts)  # one contents line per figure, labelled once
    totals = pd.read_csv(outcome.out_dir / "upscaling" / "totals.csv")
    assert set(totals["data_label"]) == {"SYNTHETIC"}


def test_alt_texts_of_real_data_are_unchanged():
    from rhbench.report.page_sections import _labelled_alts

    content = '<img src="x" alt="Taylor diagram of rh"><img src="y" alt="RF Rh map (UNVERIFIED)">'
    assert _labelled_alts(content, "REAL") == content
    assert _labelled_alts(content, "UNVERIFIED") == (
        '<img src="x" alt="Taylor diagram of rh (UNVERIFIED)"><img src="y" alt="RF Rh map (UNVERIFIED)">'
    )


def test_a_cmip6_models_citation_names_its_data_version(tmp_path):
    """The label line names the observations' versions; the model's own version is in its citation
    (run.json, the page): the DRS folder's, else the file's ``version`` attribute, else 'unknown'."""
    from rhbench import cmip6

    drs = tmp_path / "CMIP6/CMIP/X/TOY/historical/r1i1p1f1/Lmon/rh/gn/v20200101"
    rh = cmip6.parse(drs / "rh_Lmon_TOY_historical_r1i1p1f1_gn_200001-200112.nc")
    (source,) = cmip6.sources([rh])
    assert source.citation.startswith("CMIP6 TOY historical r1i1p1f1, version v20200101 (CC BY 4.0")
    flat = cmip6.parse(tmp_path / "rh_Lmon_TOY_historical_r1i1p1f1_gn_200001-200112.nc")  # no file, no attribute
    assert ", DRS version unknown (" in cmip6.sources([flat])[0].citation


@pytest.mark.shared_data
def test_the_real_cmip6_samples_citation_has_the_version_its_files_state():
    from rhbench import cmip6
    from tests.conftest import shared_data_path

    (source,) = cmip6.discover(shared_data_path("cmip6-sample"), variables=("gpp",))
    assert "ACCESS-ESM1-5 historical r1i1p1f1, version v20191115 (" in source.citation


def test_new_plugin_into_an_existing_folder_says_what_to_do(tmp_path):
    from rhbench.errors import OutputExistsError
    from rhbench.scaffold import scaffold_plugin

    scaffold_plugin("dgvm", "Foo", tmp_path)
    before = (tmp_path / "rhbench-foo" / "pyproject.toml").read_bytes()
    with pytest.raises(OutputExistsError, match="to fix: edit the package there, or give another parent folder"):
        scaffold_plugin("dgvm", "Foo", tmp_path)
    assert (tmp_path / "rhbench-foo" / "pyproject.toml").read_bytes() == before
