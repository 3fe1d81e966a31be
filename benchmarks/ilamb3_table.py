"""The side by side's targets (issue 18), their verdicts and its Markdown table
(:mod:`benchmarks.ilamb3_bench` measures; this module only reads its cases: seconds, bytes)."""

from __future__ import annotations

#: Bytes in a MiB (peak RSS is measured in bytes).
MIB = 2**20
#: Targets of issue 18 (this 2-core machine, warm cache).
TARGETS = {
    "speedup_annual_1": 2.0,
    "speedup_monthly_4": 15.0,
    "peak_rss_mib_max": 600.0,
    "confrontation_over_raw_max": 1.5,
}


def ratios(case: dict) -> dict:
    """Speed-ups over ilamb3 and the confrontation's cost relative to a raw read; None where
    a side failed (rhbench's exit code or error is in the case)."""
    run, conf, raw, ilamb = case["rhbench_run"], case["confrontation"], case["raw_read"], case["ilamb3"]
    run_ok, conf_ok = run["seconds"] is not None, conf["seconds"] is not None
    case["confrontation_over_raw"] = conf["seconds"] / raw["seconds"] if conf_ok else None
    if ilamb is not None:
        case["speedup_end_to_end"] = ilamb["wall_seconds"] / run["wall_seconds"] if run_ok else None
        case["speedup_confrontation"] = ilamb["seconds"] / conf["seconds"] if conf_ok else None
    return case


def verdicts(cases: list[dict]) -> dict[str, bool | None]:
    """Each target of issue 18 that these cases measure: met, not met, or None (not measured)."""
    by = {(c["frequency"], len(c["models"])): c for c in cases}
    met: dict[str, bool | None] = {}
    for (freq, n), key in ((("annual", 1), "speedup_annual_1"), (("monthly", 4), "speedup_monthly_4")):
        case = by.get((freq, n))
        speedup = None if case is None else case.get("speedup_end_to_end")
        met[f"end to end >= {TARGETS[key]:g}x faster than ilamb3, {freq} {n} model(s)"] = (
            None if speedup is None else speedup >= TARGETS[key]
        )
    runs = [c["rhbench_run"] for c in cases]
    peak = max(r["peak_rss_bytes"] for r in runs) / MIB if all(r["seconds"] is not None for r in runs) else None
    limit = TARGETS["peak_rss_mib_max"]
    met[f"end-to-end peak RSS <= {limit:g} MiB"] = None if peak is None else peak <= limit
    ratios = [c["confrontation_over_raw"] for c in cases]
    limit = TARGETS["confrontation_over_raw_max"]
    met[f"confrontation within {limit:g}x of a raw xarray read"] = None if None in ratios else max(ratios) <= limit
    return met


def _cell(value: float | None, fmt: str, missing: str = "skipped") -> str:
    return missing if value is None else format(value, fmt)


def table(cases: list[dict]) -> str:
    """The measurements as a Markdown table (seconds; peak RSS in MiB)."""
    lines = [
        "| case | input | raw read | rhbench confrontation | rhbench run | ilamb3 analyses | ilamb3 process "
        "| speed-up end to end | speed-up confrontation | confrontation / raw | peak RSS run / ilamb3 |",
        "|" + "---|" * 11,
    ]
    for c in cases:
        ilamb = c["ilamb3"] or {}
        run = c["rhbench_run"]
        failed = "failed" if ilamb else "skipped"
        run_time = run["wall_seconds"] if run["seconds"] is not None else None
        cells = [
            f"{c['frequency']}, {len(c['models'])} model(s)",
            f"{c['input_bytes'] / 1e6:.0f} MB",
            f"{c['raw_read']['seconds']:.2f} s",
            _cell(c["confrontation"]["seconds"], ".2f", "failed"),
            _cell(run_time, ".2f", "failed"),
            _cell(ilamb.get("seconds"), ".2f"),
            _cell(ilamb.get("wall_seconds"), ".2f"),
            _cell(c.get("speedup_end_to_end"), ".1f", failed),
            _cell(c.get("speedup_confrontation"), ".1f", failed),
            _cell(c["confrontation_over_raw"], ".2f", "failed"),
            f"{run['peak_rss_bytes'] / MIB:.0f} / {_cell(ilamb.get('peak_rss_bytes', 0) / MIB or None, '.0f')}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
