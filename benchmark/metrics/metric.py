"""The :class:`Metric` record: one row of the metric table (:mod:`rhbench.metrics.definitions`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One metric of the scorecard.

    Parameters
    ----------
    name: the ``metric`` of its rows.
    units: the ``units`` of its rows.
    definition: one line, what the number is.
    sources: kinds of source (:data:`rhbench.metrics.definitions.SOURCE_KINDS`) that report it.
    needs: fields (:data:`rhbench.metrics.definitions.FIELDS`) a benchmarked source must provide for it.
    regions: which regions have rows: ``global`` (one row), ``regions`` (one per latitude
        band, climate zone and vegetation class; no ``global`` row) or ``global+classes``.
    group: metrics computed together, skipped together when an input is missing.
    gate: default CI-gate tolerance ``(relative, absolute)`` on a change either way, or
        None. Skill scores (``*_score``) are always gated on their drop.
    gate_on_drop: only a drop beyond ``gate`` regresses, a rise is an improvement (a
        coverage: a drop is data lost).
    """

    name: str
    units: str
    definition: str
    sources: tuple[str, ...]
    needs: tuple[str, ...] = ()
    regions: str = "global"
    group: str = ""
    gate: tuple[float, float] | None = None
    gate_on_drop: bool = False

    @property
    def regional(self) -> bool:
        """True when the metric has one row per region other than ``global`` (and no global row)."""
        return self.regions == "regions"

    @property
    def gated(self) -> bool:
        """True when ``rhbench check`` checks this metric by default."""
        return self.gate is not None or self.name.endswith("_score")
