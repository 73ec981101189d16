"""Ripple benchmarks (``make bench`` = ``python -m bench``).

Every figure is measured side by side in one run against one moto server subprocess and
printed as a ratio or a count next to its target. Nothing here is a timed test assertion.
"""
