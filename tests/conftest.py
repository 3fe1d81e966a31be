"""Shared fixtures: a small SYNTHETIC demo data root and one pipeline run on it.

The 4-degree demo is generated once per test session (a few seconds) in a temporary
folder; tests that need real data read ../shared/data beside the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SMALL_DEMO_RESOLUTION = 4.0
#: The DGVMs of the reliability tests' demo subset.
RELIABILITY_MODELS = ("CLM5.0", "JSBACH", "ORCHIDEE")


def shared_data_path(*parts: str) -> Path:
    """A file under ../shared/data; fails in CI and skips locally when it is absent."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing in CI: {path}")
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Keep decompressed and demo caches out of the user's ~/.cache."""
    os.environ.setdefault("RHBENCH_CACHE", str(tmp_path_factory.mktemp("rhbench-cache")))


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A 4-degree SYNTHETIC demo data root and its truth mapping."""
    from rhbench.demo import generate_demo

    root = tmp_path_factory.mktemp("demo4")
    truth = generate_demo(root, resolution=SMALL_DEMO_RESOLUTION)
    return root, truth


@pytest.fixture(scope="session")
def small_demo_run(small_demo, tmp_path_factory: pytest.TempPathFactory):
    """One pipeline run over every plugin on the small demo: (Outcome, truth)."""
    from rhbench.config import RunConfig
    from rhbench.pipeline import run

    root, truth = small_demo
    out = tmp_path_factory.mktemp("run4") / "out"
    config = RunConfig(
        data_root=root, out=out, resolution=SMALL_DEMO_RESOLUTION, quick_upscaling=True, demo=False, n_draws=30
    )
    return run(config), truth


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 4-degree SYNTHETIC demo root with the observations and :data:`RELIABILITY_MODELS` only."""
    from rhbench.registry import Registry, build_registry

    root = tmp_path_factory.getbasetemp() / "reliability-demo"
    if not (root / "demo.json").is_file():
        full = build_registry()
        keep = {n: s for n, s in full.sources.items() if s.kind != "dgvm" or n in RELIABILITY_MODELS}
        from rhbench.demo import generate_demo

        generate_demo(root, resolution=SMALL_DEMO_RESOLUTION, registry=Registry(sources=keep))
    return root
