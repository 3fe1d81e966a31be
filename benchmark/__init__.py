"""rhbench: benchmark DGVMs against observation-based soil heterotrophic respiration."""

__version__ = "0.1.0"
