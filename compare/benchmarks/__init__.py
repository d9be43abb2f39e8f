"""Benchmarks of the other packages, behind `occam bench`: the search against its targets and a
numpy baseline (bench.py, baseline.py), training speed, and start-up time."""
