"""Report figures: valid PNGs of the expected pixel size, coastlines, colour limits."""

from __future__ import annotations

import struct

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from rhbench.report import plots
from rhbench.report.fig_rf import UNSEEN_SCORES, cv_caption
from rhbench.report.figure import legend_width, styles

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels from the PNG header; asserts the PNG signature."""
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def assert_size(data: bytes, width_in: float, height_in: float) -> None:
    """The PNG is ``width_in`` x ``height_in`` inches at :data:`plots.DPI` (to 1 pixel)."""
    width, height = png_size(data)
    assert width == pytest.approx(width_in * plots.DPI, abs=1)
    assert height == pytest.approx(height_in * plots.DPI, abs=1)


def _grid(n_sources: int, res: float = 2.0) -> xr.DataArray:
    lat = np.arange(-90 + res / 2, 90, res)
    lon = np.arange(res / 2, 360, res)  # 0..360 convention, converted for display
    rng = np.random.default_rng(3)
    values = rng.uniform(0, 800, size=(n_sources, lat.size, lon.size))
    return xr.DataArray(
        values,
        dims=("source", "lat", "lon"),
        coords={"source": [f"M{i}" for i in range(n_sources)], "lat": lat, "lon": lon},
    )


def test_taylor_diagram_is_a_png_of_the_figure_size():
    stats = pd.DataFrame({"source": ["A", "B", "C"], "r": [0.9, 0.5, -0.2], "sd_norm": [1.1, 0.6, np.nan]})
    # the legend beside the diagram widens the figure: 3 sources + reference, names up to 9 characters
    assert_size(plots.taylor_diagram(stats, title="rh"), 4.6 + legend_width(3, len("Reference")), 4.6)


def test_styles_stay_distinct_for_a_hundred_sources():
    pairs = {(style["color"], style["marker"]) for style in styles(100)}
    assert len(pairs) == 100


def test_global_bars_with_observation_band():
    values = pd.Series([58.6, 48.0, np.nan], index=["A", "B", "C"])
    kinds = pd.Series(["dgvm", "rh", "dgvm"], index=["A", "B", "C"])
    data = plots.global_bars(values, units="Pg C yr-1", kinds=kinds, obs=48.8, obs_sd=0.9)
    # two finite bars: width max(5, 0.32 * 2 + 2.5) = 5 in, height 3.4 in
    assert_size(data, 5.0, 3.4)


def test_map_panels_lays_out_rows_of_four(tmp_path):
    maps = _grid(6)
    panels = {str(s): maps.sel(source=s) for s in maps["source"].to_numpy()}
    data = plots.map_panels(panels, units="g C m-2 yr-1", title="rh")
    assert_size(data, 2.4 * 4 + 0.8, 1.35 * 2 + 0.5)  # 4 columns x 2 rows
    path = plots.write_png(data, tmp_path / "figs" / "maps.png")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_map_panels_without_maps_draws_a_message():
    assert png_size(plots.map_panels({}, units="1"))[0] > 0


def test_diverging_colour_limits_are_symmetric_98th_percentile_of_magnitude():
    # |values| = [1, 3]; the 98th percentile interpolates 1 + 0.98 * (3 - 1) = 2.96
    low, high = plots._colour_limits([np.array([-1.0, 3.0, np.nan])], diverging=True)
    assert (low, high) == pytest.approx((-2.96, 2.96))
    low, high = plots._colour_limits([np.array([0.0, 100.0])], diverging=False)
    assert (low, high) == pytest.approx((2.0, 98.0))


def test_coastlines_come_from_the_bundled_natural_earth_outlines():
    segments = plots.coastline_segments()
    assert len(segments) > 50
    points = np.concatenate(segments)
    assert points[:, 0].min() >= -180 and points[:, 0].max() <= 180
    assert points[:, 1].min() >= -90 and points[:, 1].max() <= 90
    # some coastline passes within 1.5 degrees of Lisbon (38.7 N, 9.1 W)
    distance = np.hypot(points[:, 0] + 9.1, points[:, 1] - 38.7)
    assert distance.min() < 1.5


def test_zonal_means_and_twobox_series_are_pngs():
    zonal = _grid(3).mean("lon")
    assert_size(plots.zonal_means(zonal, units="g C m-2 yr-1", reference="M0"), 3.8 + legend_width(4, 10), 3.8)
    years = np.arange(1901, 2019)
    base = xr.DataArray(
        np.outer([1.0, 2.0], np.arange(years.size)),
        dims=("source", "year"),
        coords={"source": ["A", "B"], "year": years},
    )
    ds = xr.Dataset(
        {
            "dcTotal_unconstrained": base,
            "dcTotal_constrained": 1.4 * base,
            "dcTotal_constrained_sd": 0.1 * base,
        }
    )
    # 1 ensemble row + 1 row of panels
    assert_size(plots.twobox_series(ds), 2.4 * 4, 1.7 * 2 + 0.3)


def test_rf_diagnostics_are_pngs():
    rng = np.random.default_rng(0)
    observed = rng.uniform(50, 1200, 90)
    oof = pd.DataFrame(
        {
            "observed": observed,
            "predicted": 0.8 * observed + 60,
            "zone": np.repeat(["tropical", "temperate", "boreal"], 30),
        }
    )
    assert_size(plots.rf_scatter(oof, metrics={"r2": 0.62}), 5.4, 3.9)
    importance = pd.DataFrame({"predictor": ["MAT", "MAP", "LAI"], "importance_pct": [50.0, 30.0, 20.0]})
    assert_size(plots.rf_importance(importance), 4.2, 0.18 * 3 + 1.0)
    pdp = pd.DataFrame(
        {
            "predictor": ["MAT"] * 5 + ["MAP"] * 5,
            "value": list(range(5)) * 2,
            "rh": np.linspace(100, 500, 10),
        }
    )
    assert_size(plots.rf_partial_dependence(pdp), 2.3 * 2, 1.8)


def test_cv_caption_shows_only_the_known_scores_never_a_raw_dict():
    metrics = {"r2": 0.6251, "nse": 0.63, "rmse": 152.94, "n_obs": 761, "best": {"ntree": 200}, "seed": 3}
    assert cv_caption(metrics) == "R² 0.625 · NSE 0.63 · RMSE 153 · n 761"
    assert cv_caption(None) == ""
    unseen = metrics | {"location_grouped_r2": 0.2479, "location_grouped_nse": 0.226}
    unseen["location_grouped_n_locations"] = 285
    assert cv_caption(unseen, UNSEEN_SCORES) == "R² 0.248 · NSE 0.226 · locations 285"
    assert cv_caption(metrics, UNSEEN_SCORES) == ""  # an older product: no second line


def test_paper_figures_are_pngs():
    table = pd.DataFrame(
        {"observation": [40.0, 30.0], "ensemble_mean": [20.0, 25.0], "ensemble_sd": [5.0, np.nan]},
        index=["ENF", "Tundra"],
    )
    members = pd.DataFrame({"A": [18.0, 22.0], "B": [22.0, 28.0]}, index=["ENF", "Tundra"])
    assert png_size(plots.region_bars(table, members, units="tau_soil (yr)"))[0] > 0
    bars = pd.DataFrame({"unconstrained": [10.0, 5.0], "constrained": [15.0, 9.0], "constrained_sd": [1.0, 2.0]})
    assert png_size(plots.constraint_bars(bars.set_axis(["ENF", "DBF"])))[0] > 0
    items = [{"label": "global Rh", "units": "Pg C yr-1", "bars": [("observation", 48.8, 0.9), ("DGVMs", 58.6, 9.9)]}]
    assert_size(plots.ensemble_panels(items), 2.4, 2.3)
    years = np.arange(1901, 1911)
    ds = xr.Dataset(
        {
            "dcTotal_dgvm": (("source", "year"), np.outer([1.0, 2.0], np.arange(10))),
            "dcTotal_unconstrained": (("source", "year"), np.outer([1.1, 1.9], np.arange(10))),
        },
        coords={"source": ["A", "ensemble_mean"], "year": years},
    )
    assert png_size(plots.emulation_scatter(ds, r2={"A": 0.98}))[0] > 0
    points = pd.DataFrame({"source": ["A", "B", "C"], "rh_dev_pct": [10.0, 20, -5], "tau_dev_pct": [-20.0, -35, 4]})
    assert png_size(plots.deviation_scatter(points))[0] > 0
    sites = pd.DataFrame({"Latitude": [50.0, 10.0], "Longitude": [10.0, -60.0], "vegetation": ["ENF", "EBF"]})
    assert png_size(plots.site_map(sites))[0] > 0
    codes = _grid(1).isel(source=0) % 2 + 1
    assert png_size(plots.map_panels({"a": codes}, units="dominant bias", categories={1: "Rh", 2: "cSoil"}))[0] > 0
    assert png_size(plots.map_panels({"a": _grid(1).isel(source=0) + 1}, units="tau (yr)", log=True))[0] > 0


def _placed(figure_module, draw, *args, **kwargs):
    """The figure a figure function drew (its PNG, and the figure captured before saving)."""
    from rhbench.report import figure as F

    captured = {}

    def keep(fig):
        captured["fig"] = fig
        return F.png(fig)

    original = figure_module.png
    figure_module.png = keep
    try:
        data = draw(*args, **kwargs)
    finally:
        figure_module.png = original
    return data, captured["fig"]


@pytest.mark.parametrize("names", [["SYN-A"], [f"WWWWWWWW model {i}" for i in range(20)]])
def test_fixed_margin_figures_keep_axes_and_legend_inside_without_a_layout_engine(names):
    """Issue 18: the Taylor diagram and zonal profiles are placed by fixed_margins (no
    constrained layout): the axes and the measured legend stay inside the figure."""
    from rhbench.report import fig_series, fig_taylor

    stats = pd.DataFrame({"source": names, "r": np.linspace(-0.3, 0.9, len(names)), "sd_norm": 1.0})
    lat = np.arange(-89.0, 90.0, 2.0)
    profiles = np.random.default_rng(1).uniform(50, 800, (len(names) + 1, lat.size))
    zonal = xr.DataArray(profiles, dims=("source", "lat"), coords={"source": [*names, "Konings2019"], "lat": lat})
    # the page's longest titles and labels (sections.py: label(...) + " (SYNTHETIC)")
    zonal_kwargs = {
        "title": "zonal mean cSoil + cLitter (SYNTHETIC)",
        "units": "cSoil + cLitter (kg C m-2)",
        "reference": "Konings2019",
    }
    for module, draw, args, kwargs in (
        (fig_taylor, fig_taylor.taylor_diagram, (stats,), {"title": "cSoil + cLitter maps vs reference (SYNTHETIC)"}),
        (fig_series, fig_series.zonal_means, (zonal,), zonal_kwargs),
    ):
        data, fig = _placed(module, draw, *args, **kwargs)
        assert_size(data, *fig.get_size_inches())
        assert fig.get_layout_engine() is None
        renderer = fig.canvas.get_renderer()
        (ax,) = fig.axes
        box, legend = ax.get_position(), ax.get_legend().get_window_extent(renderer)
        assert 0 < box.x0 < box.x1 < 1 and 0 < box.y0 < box.y1 < 1
        assert legend.x0 > box.x1 * fig.bbox.width and legend.x1 <= fig.bbox.width  # beside the axes, not clipped
        drawn = fig.get_tightbbox(renderer)  # every artist (title, tick and axis labels), in inches
        width, height = fig.get_size_inches()
        assert 0 <= drawn.x0 and drawn.x1 <= width and 0 <= drawn.y0 and drawn.y1 <= height
        if module is fig_taylor:
            assert box.width * fig.bbox.width == pytest.approx(box.height * fig.bbox.height)  # square


def test_zonal_profiles_draw_the_observation_on_top_of_its_band_and_tau_on_a_log_axis():
    """Issue 15: the observation line is not hidden under the products' lines, it has its +-1 SD
    band, and turnover-time profiles use a log scale."""
    from matplotlib.collections import PolyCollection

    from rhbench.report import fig_series

    lat = np.arange(-59.0, 85.0, 2.0)
    values = np.random.default_rng(2).uniform(5, 400, (3, lat.size))
    zonal = xr.DataArray(values, dims=("source", "lat"), coords={"source": ["A", "B", "observations"], "lat": lat})
    obs = zonal.sel(source="observations")
    for log in (True, False):
        _, fig = _placed(
            fig_series,
            fig_series.zonal_means,
            zonal,
            units="tau_soil (yr)",
            reference="observations",
            band=(obs * 0.8, obs * 1.2),
            log=log,
        )
        (ax,) = fig.axes
        assert ax.get_xscale() == ("log" if log else "linear")
        lines = {line.get_label(): line for line in ax.get_lines()}
        (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert band.get_label() == "observation ± 1 SD"
        top = lines["observations"]
        assert top.get_zorder() > band.get_zorder() > max(lines[s].get_zorder() for s in ("A", "B"))
        np.testing.assert_allclose(top.get_xdata(), obs.values)


def test_tau_maps_use_a_log_colour_scale_and_other_maps_a_linear_one():
    from matplotlib.colors import LogNorm

    from rhbench.report import fig_maps

    grid = _grid(1).isel(source=0) + 1.0
    for log in (True, False):
        _, fig = _placed(fig_maps, fig_maps.map_panels, {"a": grid}, units="tau_soil (yr)", log=log)
        drawn = [im for ax in fig.axes for im in ax.get_images() + ax.collections if im.get_array() is not None]
        norms = [im.norm for im in drawn]  # the data layers (coastlines carry no values)
        assert norms and all(isinstance(n, LogNorm) == log for n in norms)


def test_the_twobox_series_figure_plots_changes_since_the_first_year_as_given():
    """The 2-box panels are titled "change since the first year": they draw the dc series they are
    given (0 in the first year), never the absolute cTotal."""
    from rhbench.report import fig_series

    years = np.arange(1901, 1911)
    change = np.outer([1.0, 2.0], np.arange(10.0))
    ds = xr.Dataset(
        {
            "dcTotal_unconstrained": (("source", "year"), change),
            "dcTotal_constrained": (("source", "year"), 1.5 * change),
        },
        coords={"source": ["A", "B"], "year": years},
    )
    _, fig = _placed(fig_series, fig_series.twobox_series, ds)
    drawn = [line.get_ydata() for ax in fig.axes[1:] for line in ax.get_lines()]
    assert len(drawn) == 4 and all(float(y[0]) == 0.0 for y in drawn)
    np.testing.assert_allclose(drawn[1], 1.5 * change[0])
