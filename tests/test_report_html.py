"""The static scorecard page: sections, missing-input messages, and a headless browser."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench.report.html import taylor_points, write_index_html

CHROMIUM = Path("/usr/bin/chromium")
REF = "observations"
SECTIONS = (
    "summary",
    "models",
    "ensemble",
    "taylor",
    "global",
    "regions",
    "attribution",
    "maps",
    "zonal",
    "observations",
    "twobox",
    "emulation",
    "rf",
    "provenance",
)


def _row(source, kind, metric, value, units="1", status="ok", reason=""):
    return {
        "source": source,
        "kind": kind,
        "metric": metric,
        "region": "global",
        "units": units,
        "value": value,
        "status": status,
        "reason": reason,
    }


def synthetic_scorecard(n_models: int) -> pd.DataFrame:
    """Reference rows plus n_models DGVMs; the last model lacks rh (skipped rows)."""
    rows = [
        _row(REF, "reference", "rh_global", 48.8, "Pg C yr-1"),
        _row(REF, "reference", "rh_global_sd", 0.9, "Pg C yr-1"),
        _row(REF, "reference", "tau_soil_global", 38.3, "yr"),
        _row(REF, "reference", "tau_soil_global_sd", 11.0, "yr"),
        _row(REF, "reference", "rh_taylor_sd", 200.0, "g C m-2 yr-1"),
    ]
    for i in range(n_models):
        name = f"DGVM-{i:02d}"
        if i == n_models - 1:
            rows += [
                _row(name, "dgvm", m, None, status="skipped", reason="no variable rh")
                for m in ("rh_global", "rh_taylor_r", "rh_taylor_score")
            ]
            continue
        r, s = 0.4 + 0.5 * i / n_models, 0.6 + 1.2 * i / n_models
        rows += [
            _row(name, "dgvm", "rh_global", 45.0 + i, "Pg C yr-1"),
            _row(name, "dgvm", "tau_soil_global", 15.0 + i, "yr"),
            _row(name, "dgvm", "rh_taylor_r", r),
            _row(name, "dgvm", "rh_taylor_normalized_sd", s),
            _row(name, "dgvm", "rh_taylor_sd", 200.0 * s, "g C m-2 yr-1"),
            _row(name, "dgvm", "rh_taylor_score", 2 * (1 + r) / (s + 1 / s) ** 2),
        ]
    frame = pd.DataFrame(rows)
    frame["value"] = frame["value"].astype(float)
    return frame


def synthetic_datasets(n_models: int, res: float = 2.0) -> dict[str, xr.Dataset]:
    """maps (source, lat, lon), zonal (source, lat) and twobox (source, year)."""
    rng = np.random.default_rng(7)
    sources = [REF] + [f"DGVM-{i:02d}" for i in range(n_models)]
    kinds = ["reference"] + ["dgvm"] * n_models
    lat = np.arange(-90 + res / 2, 90, res)
    lon = np.arange(-180 + res / 2, 180, res)
    rh = rng.uniform(100, 900, (len(sources), lat.size, lon.size))
    coords = {"source": sources, "lat": lat, "lon": lon, "kind": ("source", kinds)}
    maps = xr.Dataset(
        {
            "rh": (("source", "lat", "lon"), rh),
            "rh_bias": (("source", "lat", "lon"), rh - rh[0]),
            "tau_soil": (("source", "lat", "lon"), 40 * rh / 500),
        },
        coords=coords,
    )
    maps["rh"].attrs["units"] = "g C m-2 yr-1"
    zonal = maps[["rh"]].mean("lon")
    years = np.arange(1901, 2019)
    ramp = np.outer(np.linspace(0.8, 1.2, n_models), np.linspace(0, 170, years.size))
    twobox = xr.Dataset(
        {
            "dcTotal_unconstrained": (("source", "year"), ramp),
            "dcTotal_constrained": (("source", "year"), ramp * 244 / 170),
            "dcTotal_constrained_sd": (("source", "year"), ramp * 0.2),
        },
        coords={"source": sources[1:], "year": years},
    )
    return {"maps": maps, "zonal": zonal, "twobox": twobox}


def write_upscaling(folder: Path) -> Path:
    """A minimal `rhbench upscale` output folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cv_metrics.json").write_text(json.dumps({"r2": 0.62, "nse": 0.63, "rmse": 152.9, "n": 761}))
    observed = np.linspace(50, 1500, 60)
    pd.DataFrame(
        {
            "observed": observed,
            "predicted": 0.7 * observed + 100,
            "zone": np.repeat(["tropical", "temperate", "boreal"], 20),
        }
    ).to_csv(folder / "oof_predictions.csv", index=False)
    pd.DataFrame({"predictor": ["MAT", "MAP", "SOC"], "importance_pct": [40.0, 35.0, 25.0]}).to_csv(
        folder / "importance.csv", index=False
    )
    pd.DataFrame(
        {
            "predictor": ["MAT"] * 4 + ["MAP"] * 4,
            "value": [0, 10, 20, 30] * 2,
            "rh": [300, 400, 500, 600, 350, 380, 420, 460],
        }
    ).to_csv(folder / "partial_dependence.csv", index=False)
    return folder


def _sections(text: str) -> dict[str, str]:
    found = re.findall(r'<(?:section|footer) id="(\w+)">(.*?)</(?:section|footer)>', text, re.S)
    return dict(found)


def _images(text: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r'src="data:image/png;base64,([^"]+)"', text)]


@pytest.fixture(scope="module")
def full_page(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("page")
    started = time.perf_counter()
    path = write_index_html(
        out,
        synthetic_scorecard(6),
        synthetic_datasets(6),
        synthetic=True,
        provenance={
            "rhbench_version": "0.1.0",
            "plugins": ["dgvm-demo"],
            "inputs": {"demo": "sha256:abc"},
        },
        upscaling_dir=write_upscaling(out / "upscale"),
    )
    path.with_suffix(".seconds").write_text(str(time.perf_counter() - started))
    return path


def test_page_has_every_section_with_its_figures(full_page):
    text = full_page.read_text()
    sections = _sections(text)
    assert tuple(sections) == SECTIONS
    # no ensemble rows, no tau_soil Taylor rows, no tau_veg_global, no regional rows (2), no
    # attribution maps, no observation products, no per-class 2-box rows
    assert text.count('class="missing"') == 8
    counts = {name: len(_images(body)) for name, body in sections.items()}
    # one Taylor diagram per prefix with rows (rh; tau_soil has none), bars of rh_global and
    # tau_soil_global (tau_veg_global absent), the deviation scatter, maps of rh, rh_bias,
    # tau_soil, one zonal variable, one 2-box quantity, RF scatter + importance + partial dependence
    assert counts == {
        "summary": 0,
        "models": 0,
        "ensemble": 0,
        "taylor": 1,
        "global": 2,
        "regions": 0,
        "attribution": 1,
        "maps": 3,
        "zonal": 1,
        "observations": 0,
        "twobox": 1,
        "emulation": 0,
        "rf": 3,
        "provenance": 0,
    }
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in _images(text))
    assert "No tau_soil_taylor_* rows" in sections["taylor"]
    assert "No tau_veg_global values" in sections["global"]


def test_page_shows_the_synthetic_banner_and_provenance(full_page):
    text = full_page.read_text()
    # no data description: the synthetic flag labels it; not a demo root, so not "demo data"
    assert '<div class="banner">SYNTHETIC DATA — not a scientific result</div>' in text
    assert "<title>rhbench scorecard (SYNTHETIC data)</title>" in text
    footer = _sections(text)["provenance"]
    assert "<dt>rhbench_version</dt><dd>0.1.0</dd>" in footer
    assert "sha256:abc" in footer and "<dt>generated</dt>" in footer


@pytest.mark.parametrize(
    ("data", "banner", "title"),
    [
        (
            {"data_label": "SYNTHETIC", "data_label_reason": "the data root is the SYNTHETIC demo (rhbench demo)"},
            "SYNTHETIC DEMO DATA — not a scientific result",
            "(SYNTHETIC demo data)",
        ),
        (
            {"data_label": "UNVERIFIED", "data_label_reason": "site table x.csv is not a pinned release"},
            "UNVERIFIED DATA — real-looking inputs that are not the pinned releases; not a verified result",
            "(UNVERIFIED data)",
        ),
        ({"data_label": "REAL", "data_label_reason": "pinned"}, None, ""),
    ],
)
def test_page_words_the_label_by_what_the_data_is(tmp_path, data, banner, title):
    """Every non-demo SYNTHETIC page said "SYNTHETIC demo data"; an unpinned real input was
    labelled SYNTHETIC (there was no UNVERIFIED label)."""
    scores = synthetic_scorecard(2)
    path = write_index_html(tmp_path, scores, {}, synthetic=False, provenance={"data": data})
    text = path.read_text()
    assert f"<title>rhbench scorecard{' ' + title if title else ''}</title>" in text
    assert (f'<div class="banner">{banner}</div>' in text) if banner else ('class="banner"' not in text)


def test_summary_grid_colours_scores_and_greys_skipped_rows(full_page):
    grid = _sections(full_page.read_text())["summary"]
    # DGVM-00: r = 0.4, s = 0.6; score 2 * 1.4 / (0.6 + 1/0.6)^2 = 0.54498 -> hue 65
    assert 'style="background:hsl(65,70%,80%)">0.545</td>' in grid
    assert 'title="skipped: no variable rh">skipped</td>' in grid
    assert grid.split("<tbody>")[1].count("<tr data-source=") == 7  # the reference and six DGVMs
    assert 'href="#model-DGVM-00"' in grid and "global Rh<br><small>Pg C yr-1</small>" in grid


def test_page_builds_fast_for_twenty_sources(tmp_path):
    started = time.perf_counter()
    write_index_html(
        tmp_path,
        synthetic_scorecard(20),
        synthetic_datasets(20, res=0.5),
        synthetic=False,
        provenance={},
        upscaling_dir=None,
    )
    elapsed = time.perf_counter() - started
    assert elapsed < 20.0, f"page took {elapsed:.1f} s"
    assert "banner" not in (tmp_path / "index.html").read_text().split("<body>")[1][:200]


def test_missing_inputs_are_reported_in_their_sections(tmp_path):
    empty = pd.DataFrame(columns=["source", "kind", "metric", "region", "units", "value", "status", "reason"])
    path = write_index_html(tmp_path, empty, {}, synthetic=False, provenance={}, upscaling_dir=tmp_path / "absent")
    sections = _sections(path.read_text())
    assert tuple(sections) == SECTIONS
    assert "the scorecard is empty" in sections["summary"]
    assert "No rh_taylor_* rows" in sections["taylor"]
    assert "No rh_global values" in sections["global"]
    assert "No maps dataset" in sections["maps"]
    assert "No zonal dataset" in sections["zonal"]
    assert "No 2-box dataset" in sections["twobox"]
    assert "Upscaling output folder not found" in sections["rf"]
    assert _images(path.read_text()) == []


def test_partial_upscaling_output_names_the_missing_files(tmp_path):
    folder = write_upscaling(tmp_path / "up")
    (folder / "partial_dependence.csv").unlink()
    path = write_index_html(tmp_path, synthetic_scorecard(2), {}, synthetic=False, provenance={}, upscaling_dir=folder)
    rf = _sections(path.read_text())["rf"]
    assert len(_images(rf)) == 2 and "Missing from" in rf and "partial_dependence.csv" in rf
    assert "<th>rmse</th><td>152.9</td>" in rf


def test_a_broken_input_breaks_only_its_section(tmp_path):
    datasets = synthetic_datasets(2)
    datasets["twobox"] = datasets["twobox"].rename(year="time")  # no 'year' dimension
    path = write_index_html(
        tmp_path,
        synthetic_scorecard(2),
        datasets,
        synthetic=False,
        provenance={},
        upscaling_dir=None,
    )
    sections = _sections(path.read_text())
    assert "could not be drawn" in sections["twobox"]
    assert len(_images(sections["maps"])) == 3


def test_taylor_points_normalise_by_the_reference_sd_when_needed():
    scores = synthetic_scorecard(3).query("metric != 'rh_taylor_normalized_sd'")
    points = taylor_points(scores, "rh")
    # DGVM-01: sd = 200 * (0.6 + 1.2 / 3) = 200 -> normalised by the reference's 200 -> 1.0
    assert points.set_index("source").loc["DGVM-01", "sd_norm"] == pytest.approx(1.0)
    assert list(points["source"]) == ["DGVM-00", "DGVM-01"]  # reference and skipped left out


# --- headless browser ---------------------------------------------------------------

_PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = Array.from(document.images);
  var bad = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  document.title = 'PROBE ' + (bad.length ? 'BROKEN ' + bad.length : 'OK') + ' ' + imgs.length;
});
window.addEventListener('error', function (e) { document.title = 'PROBE ERROR ' + e.message; });
</script>"""


def _chromium_or_skip() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI (apt-get install -y chromium)")
    pytest.skip("no /usr/bin/chromium (apt-get install -y chromium)")


@pytest.mark.browser
def test_page_loads_in_headless_chromium_without_errors(full_page, tmp_path):
    chromium = _chromium_or_skip()
    probed = tmp_path / "probed.html"
    probed.write_text(full_page.read_text().replace("</body>", _PROBE + "</body>"))
    flags = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        "--window-size=1400,4000",
        "--virtual-time-budget=5000",
    ]
    dom = subprocess.run([*flags, "--dump-dom", probed.as_uri()], capture_output=True, text=True, timeout=120)
    title = re.search(r"<title>(.*?)</title>", dom.stdout)
    assert title is not None, dom.stderr[-2000:]
    assert title.group(1) == "PROBE OK 12"  # 1 + 2 + 1 + 3 + 1 + 1 + 3 images, all decoded
    console_errors = [
        line
        for line in dom.stderr.splitlines()
        if "CONSOLE" in line and ("error" in line.lower() or "Uncaught" in line)
    ]
    assert console_errors == []
    shot = tmp_path / "page.png"
    subprocess.run([*flags, f"--screenshot={shot}", full_page.as_uri()], capture_output=True, timeout=120)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shutil.copy(shot, full_page.parent / "page.png")


#: Every figure of the demo run's page, by HTML id (the README maps them to the paper's figures).
DEMO_FIGURES = (
    "fig-ensemble-bars",
    "fig-tau-diff-ensemble",
    "fig-taylor-rh",
    "fig-taylor-tau_soil",
    "fig-bars-rh_global",
    "fig-bars-tau_soil_global",
    "fig-bars-tau_veg_global",
    "fig-regions-rh",
    "fig-regions-tau",
    "fig-attribution-map",
    "fig-deviation-scatter",
    "fig-maps-rh",
    "fig-maps-rh_bias",
    "fig-maps-tau_soil",
    "fig-maps-tau_bias",
    "fig-maps-tau_veg",
    "fig-zonal-rh",
    "fig-zonal-csoil",
    "fig-zonal-tau_soil",
    "fig-zonal-tau_veg",
    "fig-csoil-products",
    "fig-csoil-zonal",
    "fig-rf-map",
    "fig-rf-sd-map",
    "fig-twobox-dcTotal",
    "fig-twobox-dcSoil",
    "fig-twobox-dcVeg",
    "fig-emulation",
    "fig-class-constraint",
    "fig-rf-cv",
    "fig-site-map",
    "fig-rf-importance",
    "fig-rf-pdp",
)

_ID_PROBE = """<script>
window.addEventListener('load', function () {
  var wanted = %s;
  var absent = wanted.filter(function (id) {
    var fig = document.getElementById(id), img = fig && fig.querySelector('img');
    return !(img && img.complete && img.naturalWidth > 0);
  });
  var links = wanted.filter(function (id) { return !document.querySelector('nav.toc a[href="#' + id + '"]'); });
  document.title = 'IDS ' + (absent.length ? 'ABSENT ' + absent.join(',') : 'OK') +
    ' TOC ' + (links.length ? 'UNLINKED ' + links.join(',') : 'OK') +
    ' CARDS ' + document.querySelectorAll('.model-card').length;
});
</script>"""


@pytest.mark.browser
def test_demo_page_has_every_paper_figure_by_id_in_chromium(small_demo_run, tmp_path):
    chromium = _chromium_or_skip()
    outcome, truth = small_demo_run
    page = outcome.out_dir / "index.html"
    probed = tmp_path / "probed.html"
    probe = _ID_PROBE % json.dumps(list(DEMO_FIGURES))
    probed.write_text(page.read_text().replace("</body>", probe + "</body>"))
    flags = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        probed.as_uri(),
    ]
    dom = subprocess.run(flags, capture_output=True, text=True, timeout=180)
    title = re.search(r"<title>(.*?)</title>", dom.stdout)
    assert title is not None, dom.stderr[-2000:]
    n_cards = len(truth["dgvm"]) + 1 + 4 + 2 + 2  # DGVMs, observations, 4 Rh products, ensemble and products mean, SD
    assert title.group(1) == f"IDS OK TOC OK CARDS {n_cards}"
    text = page.read_text()
    assert "Paper Fig. S13" in text and "Paper Fig. 4a" in text


def test_the_readme_maps_exactly_the_demo_pages_figures_to_the_paper(small_demo_run):
    """The README's figure table, the browser test's list and the demo page's figure ids are one set."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## The scorecard page (`index.html`)")[1].split("\n## ")[0]
    table = [line.split(" | ")[0] for line in section.splitlines() if line.startswith("| `fig-")]
    in_readme = set(re.findall(r"`(fig-[^`]+)`", "\n".join(table)))
    on_page = set(re.findall(r'<figure id="(fig-[^"]+)"', (small_demo_run[0].out_dir / "index.html").read_text()))
    assert in_readme == set(DEMO_FIGURES), (
        f"README only: {in_readme - set(DEMO_FIGURES)}; list only: {set(DEMO_FIGURES) - in_readme}"
    )
    assert on_page == set(DEMO_FIGURES), (
        f"page only: {on_page - set(DEMO_FIGURES)}; list only: {set(DEMO_FIGURES) - on_page}"
    )


def test_class_constraint_bars_show_only_regions_with_2box_rows(tmp_path):
    rows = [
        {**_row("ensemble_mean", "ensemble", "dcTotal_unconstrained", 10.0, "Pg C"), "region": "ENF"},
        {**_row("ensemble_mean", "ensemble", "dcTotal_constrained", 15.0, "Pg C"), "region": "ENF"},
        {**_row("ensemble_mean", "ensemble", "rh_total", 3.0, "Pg C yr-1"), "region": "10N-20N"},
    ]
    scores = pd.DataFrame(rows)
    twobox = synthetic_datasets(2)["twobox"]
    path = write_index_html(tmp_path, scores, {"twobox": twobox}, synthetic=False, provenance={})
    found = re.search(r'<figure id="fig-class-constraint"><img src="data:image/png;base64,([^"]+)"', path.read_text())
    png = base64.b64decode(found.group(1))
    width = int.from_bytes(png[16:20], "big")
    assert width == pytest.approx(5.0 * 85, abs=1)  # one class (ENF): the minimum width, no latitude bands


def test_summary_grid_does_not_colour_the_ensemble_spread_as_a_score():
    from rhbench.report.summary_grid import summary_table

    scores = pd.DataFrame(
        [
            _row("ensemble_mean", "ensemble", "rh_taylor_score", 0.8),
            _row("ensemble_sd", "ensemble", "rh_taylor_score", 0.05),
        ]
    )
    grid = summary_table(scores)
    assert '<td data-v="0.05">0.05</td>' in grid  # plain: an SD across models
    assert 'style="background:hsl(96,70%,80%)"' in grid  # the mean is a score: 120 x 0.8


def _ensemble_rows(n_models: int) -> pd.DataFrame:
    rows = [_row(REF, "reference", "rh_global", 48.8, "Pg C yr-1")]
    rows += [_row(f"DGVM-{i:02d}", "dgvm", "rh_global", 45.0 + i, "Pg C yr-1") for i in range(n_models)]
    rows.append(_row("ensemble_mean", "ensemble", "rh_global", 45.0 + (n_models - 1) / 2, "Pg C yr-1"))
    sd = (np.nan, "skipped") if n_models < 2 else (np.std(45.0 + np.arange(n_models), ddof=1), "ok")
    rows.append(_row("ensemble_sd", "ensemble", "rh_global", sd[0], "Pg C yr-1", status=sd[1]))
    frame = pd.DataFrame(rows)
    frame["value"] = frame["value"].astype(float)
    return frame


@pytest.mark.parametrize("n_models", [1, 2])
def test_ensemble_figure_needs_two_dgvms(tmp_path, n_models):
    """One DGVM: a note and no multi-model figure (its mean is the model, its SD undefined)."""
    path = write_index_html(tmp_path, _ensemble_rows(n_models), {}, synthetic=True, provenance={})
    page = path.read_text()
    assert ('id="fig-ensemble-bars"' in page) == (n_models == 2)
    assert ("Ensemble of one DGVM: no multi-model figure" in page) == (n_models == 1)


def test_the_page_draws_turnover_maps_and_zonal_profiles_on_log_scales(tmp_path, monkeypatch):
    """Issue 15: tau maps and zonal profiles on a log scale, Rh on a linear one (the figure
    functions' own scales are tested in test_report_plots.py)."""
    from rhbench.report import plots

    calls: dict[str, list] = {"maps": [], "zonal": []}
    for name, key in (("map_panels", "maps"), ("zonal_means", "zonal")):
        original = getattr(plots, name)

        def record(*args, _original=original, _key=key, **kwargs):
            calls[_key].append((kwargs.get("units", ""), kwargs.get("log", False)))
            return _original(*args, **kwargs)

        monkeypatch.setattr(plots, name, record)
    data = synthetic_datasets(2)
    data["zonal"] = data["maps"][["rh", "tau_soil"]].mean("lon")
    write_index_html(tmp_path, synthetic_scorecard(2), data, synthetic=True, provenance={})
    for key in ("maps", "zonal"):
        logs = {units.split(" (")[0]: log for units, log in calls[key]}
        tau = {k: k.startswith(("tau", "τ")) for k in logs}  # labels write τ_soil
        assert any(tau.values()) and any(k.startswith("Rh") for k in logs), calls[key]
        assert all(log == tau[k] for k, log in logs.items()), logs
