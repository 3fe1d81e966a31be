"""The tidy result of a benchmark run: score rows plus the datasets behind them."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import xarray as xr

#: Row statuses: a number was computed; the source failed to load or compute; the
#: metric needs a variable the source does not provide.
STATUSES = ("ok", "failed", "skipped")


@dataclass(frozen=True)
class ScoreRow:
    """One number of the scorecard: ``source`` x ``metric`` x ``region``.

    ``value`` is in ``units``; NaN when ``status`` is not ``ok`` (``reason`` says why).
    """

    source: str
    kind: str
    metric: str
    region: str
    units: str
    value: float
    status: str = "ok"
    reason: str = ""

    def to_dict(self) -> dict:
        """A JSON-ready mapping (NaN becomes None)."""
        row = asdict(self)
        if isinstance(row["value"], float) and math.isnan(row["value"]):
            row["value"] = None
        return row


@dataclass
class Results:
    """Everything a run computed: score rows and named datasets (maps, series)."""

    rows: list[ScoreRow] = field(default_factory=list)
    datasets: dict[str, xr.Dataset] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)

    def extend(self, other: Results) -> None:
        """Append another result's rows, datasets and failures to this one."""
        self.rows.extend(other.rows)
        self.datasets.update(other.datasets)
        self.failures.update(other.failures)
