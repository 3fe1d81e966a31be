"""The one table of metric definitions: every metric name rhbench reports, once.

Each :class:`Metric` says its units, its definition, which kinds of source report it,
which fields a source needs for it (a source lacking one gets ``skipped`` rows naming
it), whether it has one row per region, and whether the CI gate checks it by default
(and with which tolerance). The table drives the score rows and their skips
(:mod:`rhbench.metrics.suite`, :mod:`rhbench.uptake`), the CMEC metadata
(:mod:`rhbench.report.cmec`), the gate's defaults (:mod:`rhbench.report.gate_rules`) and
the README's metrics table (:func:`markdown_table`; a test keeps them equal).

Adding a metric: one :class:`Metric` here, then the code computing its rows.
"""

from __future__ import annotations

from rhbench.metrics.metric import Metric

FLUX = "g C m-2 yr-1"
#: Kinds of source with rows: the reference (``observations``), DGVMs, prior Rh products,
#: and the multi-model ``ensemble_mean`` / ``ensemble_sd``.
SOURCE_KINDS = ("reference", "dgvm", "rh", "ensemble")
#: Fields a metric may need; a source lacking one gets skipped rows saying which.
FIELDS = ("rh", "csoil", "cveg", "litterfall", "npp")


_BENCHMARKED = ("dgvm", "rh")
_ALL = ("reference", "dgvm", "rh", "ensemble")
_DGVM = ("dgvm", "ensemble")
#: The fields the 2-box reads (:mod:`rhbench.twobox`): its rows are judged on their years (coverage.gate_sources).
_TWOBOX = ("npp", "rh", "cveg", "csoil", "litterfall")
_TAYLOR = (
    ("r", "1", "area-weighted Pearson correlation with the reference map"),
    ("sd", None, "area-weighted (population) standard deviation of the map"),
    ("normalized_sd", "1", "SD of the map / SD of the reference map"),
    ("crmse", None, "area-weighted centred RMS difference from the reference map"),
    ("bias", None, "area-weighted mean of the map minus that of the reference"),
    ("score", "1", "ILAMB/Taylor 2001 score 2 (1 + r) / (s + 1/s)^2, s = normalized_sd"),
)
#: Taylor statistics reported for each map, in row order.
TAYLOR_STATISTICS = tuple(key for key, _, _ in _TAYLOR)
_TAYLOR_GATE = {"rh_taylor_bias": (0.10, 20.0), "tau_soil_taylor_bias": (0.10, 5.0)}  # g C m-2 yr-1, yr


def _taylor(prefix: str, units: str, text: str, needs: tuple[str, ...], group: str) -> list[Metric]:
    """The Taylor statistics of one map (the reference reports only its own SD)."""
    return [
        Metric(
            f"{prefix}_taylor_{key}",
            key_units or units,
            f"{text}: {definition}",
            ("reference", *_BENCHMARKED)
            if key == "sd"
            else (*_BENCHMARKED, "ensemble")
            if key == "score"
            else _BENCHMARKED,
            needs,
            group=group,
            gate=_TAYLOR_GATE.get(f"{prefix}_taylor_{key}"),
        )
        for key, key_units, definition in _TAYLOR
    ]


#: ilamb3's scores (:mod:`rhbench.metrics.ilamb`), in the order ilamb3 reports them.
ILAMB_SCORES = ("bias_score", "rmse_score", "spatial_distribution_score", "overall_score")
#: Maps scored by ilamb3's analyses, as prefixes of the metric names (``rh_bias_score`` ...).
ILAMB_VARIABLES = {
    "rh": "period-mean Rh map",
    "csoil": "period-mean cSoil + cLitter map",
    "tau_soil": "tau_soil map (cSoil + cLitter over Rh; undefined where Rh < 1 g C m-2 yr-1)",
}
_ILAMB = {
    "bias_score": "ilamb3 Bias score: area-weighted mean of exp(-|model - ref| / |ref|) (reference without time axis)",
    "rmse_score": "ilamb3 RMSE score: area-weighted mean of exp(-centred RMSE / reference RMS) over >= 24 time "
    "steps; skipped for a reference without time axis",
    "spatial_distribution_score": "ilamb3 Spatial distribution score 2 (1 + R) / (s + 1/s)^2 with unweighted "
    "SD ratio s and correlation R over cells",
    "overall_score": "ilamb3 Overall score: plain mean of the defined bias, RMSE and spatial distribution scores",
}


def _ilamb(prefix: str, sources: tuple[str, ...], needs: tuple[str, ...], group: str) -> list[Metric]:
    """ilamb3's four scores of one map (always gated on their drop, as every ``*_score``)."""
    what = ILAMB_VARIABLES[prefix]
    return [
        Metric(f"{prefix}_{score}", "1", f"{what}: {_ILAMB[score]}", sources, needs, group=group)
        for score in ILAMB_SCORES
    ]


_POOLS = {"dcVeg": "cVeg", "dcSoil": "cSoil (incl. litter)", "dcTotal": "cVeg + cSoil"}

#: Every metric, in the order rows of a failed source are listed.
METRIC_TABLE: tuple[Metric, ...] = (
    Metric(
        "rh_global",
        "Pg C yr-1",
        "area-weighted total of period-mean Rh over the land mask",
        _ALL,
        ("rh",),
        group="rh",
        gate=(0.10, 0.0),
    ),
    Metric(
        "rh_total",
        "Pg C yr-1",
        "total of period-mean Rh over a region (band, zone or class)",
        _ALL,
        ("rh",),
        "regions",
        "rh",
    ),
    Metric("rh_mean", FLUX, "area-weighted mean of period-mean Rh over a region", _ALL, ("rh",), "regions", "rh"),
    *_taylor("rh", FLUX, "annual-mean Rh, vegetated cells", ("rh",), "rh"),
    *_ilamb("rh", _BENCHMARKED, ("rh",), "rh"),
    Metric(
        "tau_soil_global",
        "yr",
        "total (cSoil + cLitter) / total Rh, cells with both present "
        "(Rh products: observed cSoil over the product's Rh)",
        _ALL,
        ("rh", "csoil"),
        group="tau_soil",
        gate=(0.10, 0.0),
    ),
    Metric(
        "tau_soil",
        "yr",
        "total (cSoil + cLitter) / total Rh over a region",
        _ALL,
        ("rh", "csoil"),
        "regions",
        "tau_soil",
    ),
    *_taylor("tau_soil", "yr", "tau_soil map, vegetated cells with Rh >= 1 g C m-2 yr-1", ("rh", "csoil"), "tau_soil"),
    *_ilamb("tau_soil", _BENCHMARKED, ("rh", "csoil"), "tau_soil"),
    *_ilamb("csoil", ("dgvm",), ("csoil",), "csoil"),
    Metric(
        "csoil_global",
        "Pg C",
        "total of period-mean cSoil + cLitter over the land mask",
        ("reference", *_DGVM),
        ("csoil",),
        group="csoil",
        gate=(0.10, 0.0),
    ),
    Metric(
        "cveg_global",
        "Pg C",
        "total of period-mean cVeg over the land mask",
        _DGVM,
        ("cveg",),
        group="cveg",
        gate=(0.10, 0.0),
    ),
    Metric(
        "tau_veg_global",
        "yr",
        "total cVeg / total litterfall (fVegLitter, else NPP - dcVeg/dt)",
        _DGVM,
        ("cveg", "litterfall"),
        group="tau_veg",
        gate=(0.10, 0.0),
    ),
    Metric(
        "tau_veg",
        "yr",
        "total cVeg / total litterfall over a region",
        _DGVM,
        ("cveg", "litterfall"),
        "regions",
        "tau_veg",
    ),
    Metric(
        "tau_bias_pct",
        "%",
        "100 (tau_soil_mod / tau_soil_obs - 1), ratios of totals over the vegetated cells used for the attribution",
        _DGVM,
        ("rh", "csoil"),
        group="attribution",
        gate=(0.0, 10.0),
    ),
    Metric(
        "tau_bias_from_rh_pct",
        "%",
        "tau_soil bias from the Rh bias alone: 100 (total Rh_obs / total Rh_mod - 1) over the vegetated cells",
        _DGVM,
        ("rh", "csoil"),
        group="attribution",
    ),
    Metric(
        "tau_bias_from_csoil_pct",
        "%",
        "tau_soil bias from the cSoil bias alone: 100 (total cSoil_mod / total cSoil_obs - 1) over the vegetated cells",
        _DGVM,
        ("rh", "csoil"),
        group="attribution",
    ),
    Metric(
        "tau_bias_rh_dominated_area_pct",
        "%",
        "share of the vegetated area where |bias from Rh alone| > |bias from cSoil alone| (per cell)",
        _DGVM,
        ("rh", "csoil"),
        group="attribution",
    ),
    Metric(
        "corr_rh_dev_tau_dev",
        "1",
        "area-weighted correlation across vegetated cells of the relative deviations of Rh and of tau_soil "
        "from the observations",
        _DGVM,
        ("rh", "csoil"),
        group="attribution",
    ),
    Metric(
        "rh_coverage",
        "1",
        "share of the reference's land area where the source's Rh map has values; below 0.8 its totals fail",
        _BENCHMARKED,
        group="coverage",
        gate=(0.0, 0.0),  # any loss of land the model covered fails the gate
        gate_on_drop=True,
    ),
    Metric(
        "period_coverage",
        "1",
        "share of the benchmark period's years every variable has a value in (reason: those years, and each "
        "variable's); a model's row fails when its own variables share < 0.8 (2-box: npp, rh, cVeg, cSoil, litterfall)",
        _BENCHMARKED,
        group="coverage",
        gate=(0.0, 0.0),  # any lost year fails the gate
        gate_on_drop=True,
    ),
    *(  # a time axis shifted or cut outside the period moves these: gated on any change
        Metric(
            name,
            "year",
            f"the source's {end} year with data (all its years, not only the period's)",
            _BENCHMARKED,
            group="coverage",
            gate=(0.0, 0.0),
        )
        for name, end in (("first_year", "first"), ("last_year", "last"))
    ),
    Metric(
        "rh_global_sd",
        "Pg C yr-1",
        "uncertainty of the reference rh_global: SD across the RF ensemble members' global totals "
        "(skipped when the product has none; a per-cell SD map is never summed)",
        ("reference",),
        group="reference",
    ),
    Metric(
        "csoil_global_sd",
        "Pg C",
        "SD (ddof=1) of the observed cSoil products' global totals",
        ("reference",),
        group="reference",
    ),
    Metric(
        "tau_soil_global_sd",
        "yr",
        "SD (ddof=1) of tau_soil_global computed with each observed cSoil product in turn",
        ("reference",),
        group="reference",
    ),
    *(
        Metric(
            f"{pool}_unconstrained",
            "Pg C",
            f"change in global {what} 1901-2018 from the 2-box emulation with the model's own turnover times",
            _DGVM,
            regions="global+classes",
            group="twobox",
            needs=_TWOBOX,
        )
        for pool, what in _POOLS.items()
    ),
    *(
        Metric(
            f"{pool}_constrained",
            "Pg C",
            f"change in global {what}: Monte Carlo mean with bias-corrected tau_veg, tau_soil (Eq. 4-5)",
            _DGVM,
            regions="global+classes",
            group="twobox",
            needs=_TWOBOX,
            gate=(0.10, 5.0) if pool == "dcTotal" else None,
        )
        for pool, what in _POOLS.items()
    ),
    *(
        Metric(
            f"{pool}_constrained_sd",
            "Pg C",
            f"Monte Carlo SD of {pool}_constrained",
            _DGVM,
            regions="global+classes",
            group="twobox",
            needs=_TWOBOX,
        )
        for pool in _POOLS
    ),
    Metric(
        "dcTotal_dgvm",
        "Pg C",
        "the DGVM's own change in cVeg + cSoil 1901-2018",
        _DGVM,
        regions="global+classes",
        group="twobox",
        needs=_TWOBOX,
    ),
    Metric(
        "underestimation_pct",
        "%",
        "(constrained - unconstrained) / constrained x 100 of dcTotal",
        _DGVM,
        regions="global+classes",
        group="twobox",
        needs=_TWOBOX,
    ),
    Metric(
        "emulation_r2",
        "1",
        "R2 of the 2-box dcTotal series (emulation) against the DGVM's own dcTotal series (Fig. 4a)",
        _DGVM,
        regions="global+classes",
        group="twobox",
        needs=_TWOBOX,
    ),
    Metric(
        "emulation_rmse",
        "Pg C",
        "RMS difference of the 2-box and the DGVM's own dcTotal series",
        _DGVM,
        regions="global+classes",
        group="twobox",
        needs=_TWOBOX,
    ),
    Metric(
        "tau_clipped_pct",
        "%",
        "% of Monte Carlo runs whose corrected turnover fell below the floor and was clipped",
        _DGVM,
        regions="global+classes",
        group="twobox",
        needs=_TWOBOX,
    ),
)

#: Metric name -> :class:`Metric`.
METRICS: dict[str, Metric] = {metric.name: metric for metric in METRIC_TABLE}
assert len(METRICS) == len(METRIC_TABLE), "a metric name is defined twice"


def units(name: str) -> str:
    """The units of metric ``name`` (KeyError when it is not in the table)."""
    return METRICS[name].units


def of_group(group: str) -> tuple[Metric, ...]:
    """The metrics of one group, in table order."""
    return tuple(m for m in METRIC_TABLE if m.group == group)


def reported_by(kind: str, groups: tuple[str, ...] | None = None) -> tuple[Metric, ...]:
    """The metrics a source of ``kind`` reports (optionally only those of ``groups``), in table order."""
    return tuple(m for m in METRIC_TABLE if kind in m.sources and (groups is None or m.group in groups))


#: Status rows: not metrics, but rows a scorecard carries for a source as a whole.
STATUS_ROWS = {
    "load": "status of the source as a whole (no value): loaded, absent from the run, or failed, with the reason",
}


def definitions() -> dict[str, str]:
    """Metric name -> one-line definition (CMEC metadata), status rows included."""
    return {m.name: m.definition for m in METRIC_TABLE} | STATUS_ROWS


def default_gate() -> dict[str, tuple[float, float]]:
    """Metric name -> ``(relative, absolute)`` tolerance of the metrics the gate checks by default."""
    return {m.name: m.gate for m in METRIC_TABLE if m.gate is not None}


def gated_on_drop() -> frozenset[str]:
    """Gated metrics of which only a drop regresses (see :attr:`Metric.gate_on_drop`)."""
    return frozenset(m.name for m in METRIC_TABLE if m.gate is not None and m.gate_on_drop)


def markdown_table() -> str:
    """The README's metrics table (one line per metric, ``|`` in text escaped)."""
    lines = ["| metric | units | sources | regions | gated | definition |", "|---|---|---|---|---|---|"]
    for m in METRIC_TABLE:
        text = m.definition.replace("|", "\\|")
        gated = "yes" if m.gated else ""
        lines.append(f"| `{m.name}` | {m.units} | {', '.join(m.sources)} | {m.regions} | {gated} | {text} |")
    return "\n".join(lines)
