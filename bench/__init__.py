"""Benchmarks: figures printed as a table and written as JSON to bench/results/ (not timed tests)."""
