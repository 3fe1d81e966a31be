"""What the CI gate (``rhbench check``) gates, and how much change it tolerates.

One place for the gate's rules:

* every ``*_score`` (skill score, 0..1, higher is better) is gated on its **drop**, with an
  absolute tolerance (``--tolerance``, default :data:`DEFAULT_SCORE_TOLERANCE`);
* the metrics of :data:`DEFAULT_TOLERANCES` (global totals, biases, turnover times, the
  constrained carbon change) are gated by default on their **change in either direction**:
  a row is ``changed`` (and fails) when ``|current - baseline| > absolute + relative * |baseline|``
  (the numpy ``isclose`` rule). A model whose Rh drops 25 % fails on ``rh_global`` even if
  its Taylor score happens to rise;
* ``rh_coverage`` and ``period_coverage`` are gated on any **drop** (land or years lost:
  a file that silently lost data fails even when its totals stay within tolerance), and
  ``first_year``/``last_year`` on any change (a time axis moved by a wrong reference date);
* ``--metric NAME[=REL[,ABS]]`` adds or overrides one metric's tolerances.

Changes below :data:`NOISE_RELATIVE` of the larger magnitude are numerical noise and
count as unchanged. Two scorecards are only comparable when the run settings of
:data:`SETUP_KEYS` agree (see :func:`setup_differences`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rhbench.errors import ConfigError
from rhbench.metrics.definitions import default_gate, gated_on_drop

#: Allowed absolute drop of a ``*_score`` (dimensionless, scores are 0..1).
DEFAULT_SCORE_TOLERANCE = 0.02
#: Relative tolerance of a ``--metric NAME`` given without its own (fraction of |baseline|).
DEFAULT_METRIC_TOLERANCE = 0.05
#: A relative change at or below this is numerical noise: "unchanged".
NOISE_RELATIVE = 1e-9
#: Run settings (``meta.config`` of scorecard.json) that must agree between two scorecards.
SETUP_KEYS = (
    "resolution",
    "period",
    "reference",
    "csoil_products",
    "products",
    "demo",
    "demo_monthly",
    "quick_upscaling",
    "seed",
    "n_draws",
)


@dataclass(frozen=True)
class Tolerance:
    """How far a gated metric may move from its baseline before it regresses.

    ``absolute`` is in the metric's units, ``relative`` a fraction of ``|baseline|``.
    ``higher_is_better`` (scores): only a drop regresses, a rise is an improvement.
    """

    relative: float = 0.0
    absolute: float = 0.0
    higher_is_better: bool = False

    def allowed(self, baseline: float) -> float:
        """The largest change of a row with this ``baseline`` that does not regress (both in the metric's units)."""
        return self.absolute + self.relative * abs(baseline)

    def describe(self) -> str:
        """E.g. ``"10% + 20 (either way)"``."""
        parts = [f"{self.relative:.4g}×|baseline|"] if self.relative else []
        parts += [f"{self.absolute:g}"] if self.absolute or not parts else []
        return " + ".join(parts) + (" (drop)" if self.higher_is_better else " (either way)")


#: Metrics gated by default besides the ``*_score`` rows (metric -> tolerance). Global Rh
#: is about 40-70 Pg C yr-1 and mean Rh of vegetated cells about 400-700 g C m-2 yr-1, so
#: a 25 % drop of a model's Rh moves rh_global by 2.5x and rh_taylor_bias by 5x the allowed
#: change.
def metric_tolerance(name: str, relative: float, absolute: float = 0.0) -> Tolerance:
    """The tolerance of gated metric ``name``: ``relative`` (fraction of ``|baseline|``) plus
    ``absolute`` (the metric's units). The one rule for every gated metric: a metric gated on
    its drop (the coverages, :func:`rhbench.metrics.definitions.gated_on_drop`) stays so."""
    return Tolerance(relative=relative, absolute=absolute, higher_is_better=name in gated_on_drop())


DEFAULT_TOLERANCES: dict[str, Tolerance] = {
    name: metric_tolerance(name, relative, absolute) for name, (relative, absolute) in default_gate().items()
}  # the ``gate`` column of the metric table (:mod:`rhbench.metrics.definitions`); coverages on their drop


#: Said when a relative-only tolerance meets a baseline of 0 (it then allows no change).
ZERO_BASELINE_HINT = (
    "; the baseline is 0, so a relative tolerance allows no change: give an absolute one (--metric NAME=REL,ABS)"
)


def is_score(metric: str) -> bool:
    """True for a skill score (name ends in ``_score``: 0..1, higher is better)."""
    return metric.endswith("_score")


def default_tolerances() -> dict[str, Tolerance]:
    """The default gated metrics and their tolerances (a copy of :data:`DEFAULT_TOLERANCES`)."""
    return dict(DEFAULT_TOLERANCES)


def finite_non_negative(text: str, what: str = "value") -> float:
    """Parse a finite number >= 0; :class:`ValueError` naming ``what`` otherwise.

    Rejects ``nan``, ``inf``, ``true`` and anything that is not a plain decimal number.
    """
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{what} must be a finite number >= 0, got {text!r}")
    return value


def check_tolerances(tolerance: float, fail_under: float | None, rules: dict[str, Tolerance]) -> None:
    """Refuse (:class:`ConfigError`) a gate whose tolerances cannot gate: a score tolerance or a
    floor that is not a number in 0..1, a metric tolerance that is negative, NaN or infinite (a NaN
    tolerance passes every change: every comparison with NaN is false)."""
    for what, value in (("score tolerance", tolerance), ("score floor", fail_under)):
        if value is not None and not (isinstance(value, int | float) and 0 <= value <= 1):
            raise ConfigError(f"the {what} must be a number in 0..1 (scores are 0..1)", found=repr(value))
    for name, rule in rules.items():
        for part in (rule.relative, rule.absolute):
            if not (isinstance(part, int | float) and math.isfinite(part) and part >= 0):
                raise ConfigError(f"the tolerance of {name} must be finite and >= 0", found=rule.describe())


def parse_metric_option(text: str, default_relative: float) -> tuple[str, Tolerance]:
    """Parse ``--metric NAME[=REL[,ABS]]`` into the metric name and its tolerance.

    ``REL`` is a fraction of ``|baseline|`` (default ``default_relative``), ``ABS`` is in
    the metric's units (default 0). A metric gated on its drop (the coverages,
    :func:`rhbench.metrics.definitions.gated_on_drop`) stays so. Raises
    :class:`ValueError` on malformed text.
    """
    name, _, spec = text.partition("=")
    name = name.strip()
    if not name or any(c.isspace() for c in name):
        raise ValueError(f"--metric needs a metric name, got {text!r}")
    if not spec:
        return name, metric_tolerance(name, default_relative)
    parts = spec.split(",")
    if len(parts) > 2:
        raise ValueError(f"--metric {name}= takes REL[,ABS], got {spec!r}")
    relative = finite_non_negative(parts[0], f"relative tolerance of {name}")
    absolute = finite_non_negative(parts[1], f"absolute tolerance of {name}") if len(parts) == 2 else 0.0
    return name, metric_tolerance(name, relative, absolute)


def setup_differences(current: dict | None, baseline: dict | None) -> tuple[list[str], bool]:
    """Run settings that differ between two scorecards' ``meta.config`` mappings.

    Returns the list of ``"KEY: baseline X, current Y"`` texts, and whether the setups
    could be compared at all (False when either scorecard carries no config, e.g. CSV).
    """
    if not isinstance(current, dict) or not isinstance(baseline, dict):
        return [], False
    differences = []
    for key in SETUP_KEYS:
        if key not in current and key not in baseline:
            continue
        was, now = _normal(baseline.get(key)), _normal(current.get(key))
        if was != now:
            differences.append(f"{key}: baseline {was!r}, current {now!r}")
    return differences, True


#: The data versions (``meta.data`` of a scorecard, :mod:`rhbench.datalabel`) that make two runs
#: different setups: another SRDB release or predictor stack is another reference, and another
#: data label (REAL, UNVERIFIED: a pinned input's checksum did not match, SYNTHETIC) other data.
#: The file checksums of the observation products are not compared (``run.json`` keeps them).
DATA_VERSION_KEYS = ("srdb_version", "predictors_version", "data_label")


def data_differences(current: dict | None, baseline: dict | None) -> list[str]:
    """Data versions that differ between two scorecards' ``meta.data`` mappings.

    A version recorded in only one of them (a baseline written before ``meta.data`` existed,
    or a run without the upscaling) is not a difference: nothing says it changed.
    """
    if not isinstance(current, dict) or not isinstance(baseline, dict):
        return []
    return [
        f"{key}: baseline {baseline[key]!r}, current {current[key]!r}"
        for key in DATA_VERSION_KEYS
        if key in current and key in baseline and current[key] != baseline[key]
    ]


def comparable_setups(current: dict, baseline: dict, *, allow_change: bool = False) -> tuple[list[str], bool]:
    """The setup differences of two scorecards (their ``attrs``: ``meta.config``, ``meta.data``,
    ``synthetic``) and whether their setups are known (False for a CSV).

    Raises :class:`~rhbench.errors.ConfigError` on a difference unless ``allow_change``.
    """
    config = [(attrs.get("meta") or {}).get("config") for attrs in (current, baseline)]
    changes, known = setup_differences(*config)
    changes += data_differences(*[(attrs.get("meta") or {}).get("data") for attrs in (current, baseline)])
    synthetic = [attrs.get("synthetic") for attrs in (current, baseline)]
    if None not in synthetic and bool(synthetic[0]) != bool(synthetic[1]):
        changes.append(f"synthetic: baseline {bool(synthetic[1])}, current {bool(synthetic[0])}")
    if changes and not allow_change:
        raise ConfigError(
            "the scorecards come from runs with different settings; pass --allow-setup-change to compare anyway",
            file=str(current.get("path", "")) or None,
            found="; ".join(changes),
            expected="the baseline's resolution, period, reference, products, data versions (SRDB, predictors) "
            "and data label",
        )
    return changes, known


def integrity(current: dict, baseline: dict, *, allow_edited: bool = False) -> tuple[list[str], list[str]]:
    """Problems and warnings about scorecards whose rows are not those rhbench wrote.

    ``current`` and ``baseline`` are the ``attrs`` of the read scorecards (``digest``, see
    :func:`rhbench.report.tables.scorecard_digest`). A scorecard edited after it was written (a
    value, status, unit, setting or row changed, removed or added) is a problem (the gate fails) unless
    ``allow_edited``, then a warning; a scorecard without a digest (a CSV, or written by an
    older rhbench) is a warning: its edits cannot be seen.
    """
    problems, warnings = [], []
    for name, attrs in (("baseline", baseline), ("current scorecard", current)):
        state, path = attrs.get("digest", "absent"), attrs.get("path", "")
        if state == "edited":
            text = (
                f"the {name} is not the file rhbench wrote (its sha256 differs: edited by hand?): {path}; "
                "regenerate it with rhbench run"
            )
            (warnings if allow_edited else problems).append(
                text + (" (accepted: --allow-edited)" if allow_edited else ", or pass --allow-edited")
            )
        elif state == "absent":
            warnings.append(
                f"the {name} records no sha256 (a CSV, or an older rhbench): hand edits cannot be detected: {path}"
            )
    return problems, warnings


def _normal(value: object) -> object:
    """Lists and tuples compare equal (JSON has no tuples); numbers by value."""
    if isinstance(value, list | tuple):
        return tuple(_normal(v) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def is_noise(current: float, baseline: float) -> bool:
    """True when two values differ by at most :data:`NOISE_RELATIVE` of the larger magnitude."""
    return abs(current - baseline) <= NOISE_RELATIVE * max(abs(current), abs(baseline))


def compare_values(current: float, baseline: float, rule: Tolerance, *, scale: float | None = None) -> tuple[str, str]:
    """Outcome and message of two finite values of one gated row under ``rule`` (values and
    ``scale`` in the metric's units); the relative part of the tolerance is taken of ``scale``
    when given, else of ``baseline``."""
    if is_noise(current, baseline):
        return "unchanged", ""
    change = current - baseline
    allowed = rule.allowed(baseline if scale is None else scale)
    relative = f" ({change / abs(baseline):+.2%})" if baseline else ""
    if rule.higher_is_better:
        if -change > allowed:
            return "regressed", f"fell by {-change:.4g} (tolerance {allowed:.4g})"
        if change > 0:
            return "improved", f"rose by {change:.4g}"
        return "unchanged", f"fell by {-change:.4g}, within tolerance {allowed:.4g}"
    if abs(change) > allowed:
        hint = ZERO_BASELINE_HINT if allowed == 0 and baseline == 0 and rule.relative > 0 else ""
        return "changed", f"changed by {change:+.4g}{relative}, tolerance ±{allowed:.4g} ({rule.describe()}){hint}"
    return "within_tolerance", f"changed by {change:+.4g}{relative}, within ±{allowed:.4g}"
