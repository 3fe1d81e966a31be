"""Session 9's fresh-eyes pass: what a new user from a model team met, fixed
(docs/trust-cases.md, "Fresh-eyes pass (session 9)")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rhbench.errors import PluginError
from rhbench.scaffold import scaffold_plugin
from rhbench.sources import trendy_dgvm


@pytest.mark.parametrize(
    ("variable", "says"),
    [
        ("Rh", "did you mean 'rh'?"),
        ("csoil", "did you mean 'cSoil'?"),
        ("ndvi", "read from an observation product (kind ndvi), never from a model"),  # landCoverFrac: A12-1
    ],
)
def test_a_dgvm_variable_rhbench_does_not_know_is_a_plugin_error_naming_it(variable: str, says: str) -> None:
    """It was a bare ``KeyError: 'landCoverFrac'`` (the plugin listed broken with that alone)."""
    with pytest.raises(PluginError) as caught:
        trendy_dgvm("MYMODEL", "c", variables=("rh", "npp", "cVeg", "cSoil", variable))
    text = str(caught.value)
    assert "variable a DGVM plugin cannot declare" in text
    assert f"source: MYMODEL; variable: {variable}" in text
    assert "expected: one of rh, npp, gpp, cVeg, cSoil, cLitter, fVegLitter" in text
    assert says in text


def _python(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_the_scaffolds_tests_say_why_when_a_checkout_named_rhbench_shadows_rhbench(tmp_path: Path) -> None:
    """From the folder holding a checkout named ``rhbench``, ``python -m pytest PLUGIN/tests``
    failed with "cannot import name '__version__' from 'rhbench' (unknown location)"."""
    (tmp_path / "rhbench").mkdir()  # the user's clone: `git clone .../rhbench.git`
    package = scaffold_plugin("dgvm", "MYMODEL", tmp_path)
    probe = _python(tmp_path, "-c", "import rhbench; print(getattr(rhbench, '__file__', None))")
    collect = _python(tmp_path, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "rhbench-mymodel")
    if probe.stdout.strip() == "None":  # an editable install (the README's set-up): the folder shadows it
        assert collect.returncode != 0
        said = collect.stdout + collect.stderr  # a conftest's error goes to stderr
        assert "a folder named rhbench (a checkout of rhbench?) in the current folder shadows it" in said
        assert "cd rhbench-mymodel && python -m pytest" in said
    else:  # a regular install: the package wins over a folder without __init__.py
        assert collect.returncode == 0, collect.stdout[-2000:]
    inside = _python(package, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider")
    assert inside.returncode == 0, inside.stdout[-2000:]  # from inside the plugin folder, its own root
    assert "tests/test_plugin.py" in inside.stdout


REAL_DATA = {
    "data_label": "REAL",
    "data_label_reason": "not a demo root; reference Rh upscaled from real pinned data",
    "srdb_version": "SRDB-V5 v20200511",
    "predictors_source": "Jian2020-predictors",
    "predictors_version": "c0072c04dea03dd5e2ad78d3896e4a41c1893e08",
    "observations": {"land-fraction": {"kind": "landfrac", "version": "v20200511", "pinned": True}},
}


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (REAL_DATA, "REAL data: SRDB-V5 v20200511, Jian2020-predictors c0072c0, land-fraction v20200511"),
        (
            {"data_label": "SYNTHETIC", "data_label_reason": "the data root is the SYNTHETIC demo (rhbench demo)"},
            "SYNTHETIC demo data, not a scientific result: the data root is the SYNTHETIC demo (rhbench demo)",
        ),
    ],
)
def test_the_page_says_under_its_title_what_data_its_numbers_come_from(tmp_path: Path, data: dict, line: str) -> None:
    """A REAL run's page had no banner and said REAL with the data versions only in the RF section
    (13th) and the provenance footer: the top of the page did not say what the numbers were."""
    from rhbench.report.html import write_index_html
    from tests.test_report_html import synthetic_scorecard

    page = write_index_html(tmp_path, synthetic_scorecard(2), {}, synthetic=False, provenance={"data": data})
    text = page.read_text()
    header = text.split("<header>")[1].split('<nav class="toc"')[0]
    assert f'<p class="data-label" id="data-label">{line}</p>' in header


def _run_demo_root(root: Path, out: Path, models: tuple[str, ...] | None, registry=None):
    from rhbench.config import RunConfig
    from rhbench.pipeline import run

    config = RunConfig(data_root=root, out=out, resolution=4.0, quick_upscaling=True, n_draws=5, models=models)
    return run(config, registry=registry)


@pytest.mark.slow
def test_without_a_models_selection_a_dgvm_with_no_file_in_the_data_root_is_absent_not_failed(
    demo_root: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A model team's data root (the observations and their model) without --models: every
    built-in TRENDY plugin failed, one 6-line ERROR each, and the run exited 3."""
    from tests.conftest import RELIABILITY_MODELS

    caplog.set_level("INFO")
    outcome = _run_demo_root(demo_root, tmp_path / "all", None)
    load = {r.source: r for r in outcome.results.rows if r.metric == "load"}
    assert outcome.exit_code == 0 and not outcome.failures
    assert "CABLE-POP" in load and load["CABLE-POP"].status == "absent"
    assert "none of its files is in the data root" in load["CABLE-POP"].reason
    assert not set(RELIABILITY_MODELS) & set(load)  # the models whose files are there: read
    assert {r.source for r in outcome.results.rows if r.metric == "rh_global" and r.status == "ok"} >= set(
        RELIABILITY_MODELS
    )
    said = [r.getMessage() for r in caplog.records if "have no file in the data root" in r.getMessage()]
    assert len(said) == 1 and "name a model in --models" in said[0]

    selected = _run_demo_root(demo_root, tmp_path / "selected", ("CLM5.0", "CABLE-POP"))
    assert selected.exit_code == 3 and "data file not found" in selected.failures["CABLE-POP"]

    # an installed third-party plugin (the user's own model) without its files fails, naming the path
    # (review 8's open point: a misspelt folder must not pass as absent)
    from rhbench.registry import build_registry

    registry = build_registry()
    registry.packages["CABLE-POP"] = "rhbench-cable-pop 1.0"
    installed = _run_demo_root(demo_root, tmp_path / "installed", None, registry)
    assert installed.exit_code == 3 and "data file not found" in installed.failures["CABLE-POP"]
    assert "CLASSIC" not in installed.failures  # the built-in ones stay absent


def test_outputs_of_a_run_without_a_gate_context_say_so_not_none(tmp_path: Path, capsys, monkeypatch) -> None:
    """With RHBENCH_GATE_CONTEXT set for the check only, the failure read
    "written by another run (RHBENCH_GATE_CONTEXT None in manifest.json, 'run-42' here)"."""
    from rhbench.report import manifest
    from tests.test_gate_audit9 import BASELINE, _check, _run_folder, _write

    for name in (manifest.KEY_ENV, manifest.KEY_FILE_ENV, manifest.CONTEXT_ENV):
        monkeypatch.delenv(name, raising=False)
    base = _write(tmp_path / "base.json", BASELINE)
    current = _run_folder(tmp_path / "out")
    manifest.write_manifest(current.parent, b"k" * 32)  # a keyed run with no context set
    monkeypatch.setenv(manifest.KEY_ENV, "k" * 32)
    monkeypatch.setenv(manifest.CONTEXT_ENV, "run-42")
    code, out = _check(capsys, current, base)
    assert code == 1
    assert "record no RHBENCH_GATE_CONTEXT (manifest.json: the run had none set), 'run-42' here" in out
    assert "set RHBENCH_GATE_CONTEXT for `rhbench run` too" in out and "None" not in out


def test_every_sub_command_help_says_what_it_does_and_every_option_has_a_help_text() -> None:
    """`rhbench plugins|demo|fetch|data|new-plugin --help` printed the usage and options only (no
    description), `demo --seed SEED` had no text and `demo --models MODELS` took a number N."""
    import argparse

    from rhbench.cli import build_parser

    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for name, parser in subparsers.choices.items():
        assert parser.description, f"rhbench {name} --help has no description"
        for action in parser._actions:
            if not isinstance(action, argparse._HelpAction):
                assert action.help, f"rhbench {name}: {action.option_strings or action.dest} has no help text"
    demo = subparsers.choices["demo"].format_usage()
    assert "[--models N]" in demo and "[--seed SEED]" in demo


def test_the_summary_grid_names_absent_sources_under_it_instead_of_rows_of_empty_cells() -> None:
    """A model team's REAL run: 17 built-in DGVMs and 10 products without files, each a grid row of dots
    above and below the one model benchmarked."""
    import pandas as pd

    from rhbench.report.summary_grid import summary_table

    def row(source, kind, metric, value, status="ok", reason=""):
        units = "Pg C yr-1" if metric == "rh_global" else ""
        return dict(source=source, kind=kind, metric=metric, region="global", units=units, value=value,
                    status=status, reason=reason)  # fmt: skip

    scores = pd.DataFrame(
        [
            row("observations", "reference", "rh_global", 52.0),
            row("MYMODEL", "dgvm", "rh_global", 66.3),
            row("CLM5.0", "dgvm", "load", float("nan"), "absent", "none of its files is in the data root"),
            row("HWSD", "csoil", "load", float("nan"), "absent", "not in the data root: x.nc"),
            row("BROKEN", "dgvm", "load", float("nan"), "failed", "data file not found"),
        ]
    )
    grid = summary_table(scores)
    table, _, below = grid.partition("</table>")
    assert {s for s in ("observations", "MYMODEL", "BROKEN") if f'<tr data-source="{s}">' in table} == {
        "observations",
        "MYMODEL",
        "BROKEN",  # a failure keeps its row: it must be seen
    }
    assert 'data-source="CLM5.0"' not in table and 'data-source="HWSD"' not in table
    assert "Not in this run (absent, hover for why):" in below
    assert '<a href="#model-CLM5_0" title="none of its files is in the data root">CLM5.0</a>' in below
    assert '<a href="#model-HWSD" title="not in the data root: x.nc">HWSD</a>' in below


def test_the_2box_rows_of_a_run_without_observed_csoil_say_why_the_2box_model_did_not_run() -> None:
    """The model's own 2-box rows (dcTotal_dgvm, emulation_r2, the unconstrained changes) said
    "turnover times against observations are skipped", which they are not."""
    from types import SimpleNamespace

    from rhbench.metrics.definitions import METRIC_TABLE
    from rhbench.pipeline import _constrain
    from rhbench.results import Results

    obs = SimpleNamespace(reference=SimpleNamespace(has_csoil=False))
    rows = _constrain(None, {"MYMODEL": None}, None, obs, Results(), {}).rows
    assert {r.metric for r in rows} == {m.name for m in METRIC_TABLE if m.group == "twobox"}
    assert {"dcTotal_dgvm", "emulation_r2", "dcTotal_unconstrained"} <= {r.metric for r in rows}
    for row in rows:
        assert row.status == "skipped" and "turnover times against observations" not in row.reason
        assert row.reason.startswith("no observed cSoil product in the data root: the 2-box model runs only as the")


def test_a_download_that_cannot_reach_its_host_says_what_to_do(tmp_path: Path) -> None:
    """Offline, `rhbench fetch srdb` said only the requests error ("Failed to resolve ...")."""
    from rhbench.errors import DataError
    from rhbench.fetch import download_spec, fetch, find_source
    from rhbench.registry import build_registry

    spec = download_spec(find_source(build_registry(), "srdb"))
    with pytest.raises(DataError, match="download failed") as info:
        fetch(spec, tmp_path, url="http://rhbench-no-such-host.invalid/srdb-data.csv")
    assert "to fix: check the network (behind a proxy: set HTTPS_PROXY)" in str(info.value)
    assert "give its path or a mirror with --url" in str(info.value)


def _plugin_catalog(tmp_path: Path, quirks: list[str] | None) -> Path:
    import yaml

    root = scaffold_plugin("dgvm", "QMODEL", tmp_path)
    path = root / "src" / "rhbench_qmodel" / "catalogs" / "rhbench_qmodel.yaml"
    document = yaml.safe_load(path.read_text())
    assert "quirks" not in document["entries"]["QMODEL"]["metadata"]  # the plugin is the one place
    if quirks is not None:
        document["entries"]["QMODEL"]["metadata"]["quirks"] = quirks
    path.write_text(yaml.safe_dump(document))
    return path.parent


@pytest.mark.parametrize(
    ("written", "refused"),
    [(["litter_in_soil"], True), (["calendar_noleap"], False), ([], False), (None, False)],
)
def test_a_quirk_written_in_the_catalog_only_is_refused_not_silently_ignored(
    tmp_path: Path, written: list[str] | None, refused: bool
) -> None:
    """The scaffold wrote `quirks: []` in the catalog, which rhbench never reads: `litter_in_soil`
    put there (not in the plugin) was ignored and the litter added to cSoil a second time."""
    from dataclasses import replace

    from rhbench import catalog
    from rhbench.errors import CatalogError

    folder = _plugin_catalog(tmp_path, written)
    source = replace(
        trendy_dgvm("QMODEL", "c", quirks=("calendar_noleap",), catalog="rhbench_qmodel"), catalog_dir=folder
    )
    if not refused:
        assert catalog.entry_for(source).files["rh"] == "trendy_v9/QMODEL/QMODEL_S2_rh.nc"
        return
    with pytest.raises(CatalogError) as caught:
        catalog.entry_for(source)
    text = str(caught.value)
    assert "catalog quirks the plugin does not declare" in text and "found: ['litter_in_soil']" in text
    assert "expected: ['calendar_noleap']" in text and "move them to the plugin's quirks" in text


def test_the_gate_report_names_the_data_and_its_versions_real_too(tmp_path: Path, capsys, monkeypatch) -> None:
    """`rhbench check` of two REAL runs said nothing of the data (a SYNTHETIC one says so on its
    first line): the merge-request comment did not tell REAL numbers from others."""
    from rhbench.cli import main
    from rhbench.report import manifest
    from rhbench.report.tables import write_scorecard
    from rhbench.results import Results, ScoreRow
    from tests.test_report_check import SETUP

    for name in (manifest.KEY_ENV, manifest.KEY_FILE_ENV, manifest.CONTEXT_ENV):
        monkeypatch.delenv(name, raising=False)
    rows = [ScoreRow("MYMODEL", "dgvm", "rh_global", "global", "Pg C yr-1", 66.3)]
    paths = []
    for name in ("base", "current"):
        (tmp_path / name).mkdir()
        write_scorecard(Results(rows=rows), tmp_path / name, synthetic=False, meta={"config": SETUP, "data": REAL_DATA})
        paths.append(tmp_path / name / "scorecard.json")
    markdown = tmp_path / "rhbench.md"
    capsys.readouterr()
    code = main(["check", str(paths[1]), "--baseline", str(paths[0]), "--markdown", str(markdown)])
    out = capsys.readouterr().out
    line = "data: REAL data: SRDB-V5 v20200511, Jian2020-predictors c0072c0, land-fraction v20200511"
    assert code == 0 and line in out.splitlines()
    assert f"> **{line}**" in markdown.read_text()


def test_the_observation_products_a_run_does_not_use_are_said_in_one_line_per_reason(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A model team's REAL run logged one INFO line per product without files (10 of them)."""
    from rhbench import observations
    from rhbench.registry import build_registry
    from rhbench.results import Failures

    caplog.set_level("INFO")
    registry, failures = build_registry(), Failures()
    for name in ("HWSD", "Konings2019", "WISE30sec"):
        assert observations.load(registry.sources[name], tmp_path, None, failures) is None
    assert observations.load(registry.sources["Tang2020"], tmp_path, None, failures, products=("HWSD",)) is None
    assert not [r for r in caplog.records if "not used" in r.getMessage()]  # not one line each
    failures.say_absent(sorted(failures.absent))
    said = [r.getMessage() for r in caplog.records if "not used" in r.getMessage()]
    assert said == [
        "3 observation product(s) not used (not in the data root): HWSD, Konings2019, WISE30sec; "
        "`rhbench data` lists the files each expects",
        "1 observation product(s) not used (not selected (config products)): Tang2020; "
        "`rhbench data` lists the files each expects",
    ]
    assert failures.absent["HWSD"].startswith("not in the data root: ")  # the scorecard keeps each path


def test_rhbench_data_lists_only_the_sources_asked_for(tmp_path: Path, capsys) -> None:
    """`rhbench data` printed 130 files (17 TRENDY models' among them) when a model team wanted its
    model's six: `--source NAME` lists only those; a wrong name gets the close one."""
    import json

    from rhbench.cli import main

    assert main(["data", "--data-root", str(tmp_path), "--json", "--source", "CLM5.0", "--source", "HWSD"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["source"] for r in rows} == {"CLM5.0", "HWSD"}
    assert {r["variable"] for r in rows if r["source"] == "CLM5.0"} == {
        "rh", "npp", "cVeg", "cSoil", "cLitter", "fVegLitter"
    }  # fmt: skip
    assert main(["data", "--data-root", str(tmp_path), "--source", "CLM5"]) == 2
    said = " ".join(capsys.readouterr().err.split())  # the log wraps lines
    assert "unknown source names in --source" in said and "did you mean 'CLM5.0'?" in said


@pytest.mark.parametrize(
    ("attrs", "label", "says"),
    [
        ({"synthetic": 1}, "SYNTHETIC", "model file(s) marked synthetic in their own attributes: MYMODEL"),
        ({"data_label": "UNVERIFIED"}, "UNVERIFIED", "model file(s) labelled UNVERIFIED in their own attributes"),
        ({}, "REAL", "not a demo root"),
    ],
)
def test_a_model_whose_files_say_they_are_synthetic_makes_the_run_synthetic(
    tmp_path: Path, attrs: dict, label: str, says: str
) -> None:
    """A model's files marked `synthetic = 1` (as rhbench demo marks its own) scored on the REAL
    reference: the run, its page and its scorecard said "REAL data" of the model's numbers."""
    import numpy as np
    import xarray as xr

    from rhbench import datalabel
    from rhbench.registry import Registry

    path = tmp_path / "MYMODEL_S3_rh.nc"
    xr.Dataset({"rh": ("x", np.ones(2))}, attrs=attrs).to_netcdf(path)
    other = tmp_path / "OTHER_S3_rh.nc"  # a model the run did not read: its mark does not count
    xr.Dataset({"rh": ("x", np.ones(2))}, attrs={"synthetic": 1}).to_netcdf(other)
    registry = Registry(sources={n: trendy_dgvm(n, "c", variables=("rh",)) for n in ("MYMODEL", "OTHER")})
    files = {"MYMODEL": {"rh": [path]}, "OTHER": {"rh": [other]}}
    data = datalabel.describe({"inputs": {}}, files, registry, tmp_path, demo_root=False, read={"MYMODEL": [None]})
    assert data["data_label"] == label and says in data["data_label_reason"]


@pytest.mark.parametrize(
    ("text", "fix"), [('"MyModel"', 'models = ["MyModel"]'), ("3", 'models = ["MyModel", "CLM5.0"]')]
)
def test_a_models_value_that_is_not_a_list_says_how_to_write_one(tmp_path: Path, text: str, fix: str) -> None:
    """`models = "MyModel"` in a run config said "must be a list of names; found: MyModel" only."""
    from rhbench.config import load_config
    from rhbench.errors import ConfigError

    config = tmp_path / "run.toml"
    config.write_text(f"models = {text}\n")
    with pytest.raises(ConfigError, match="must be a list of names") as caught:
        load_config(config)
    assert f"to fix: write {fix} (a TOML list of quoted names)" in str(caught.value)
