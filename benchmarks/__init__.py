"""Speed and memory benchmarks of rhbench with their targets (``python -m benchmarks``)."""
