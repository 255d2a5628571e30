"""Synthetic buildings and sensors for tests, benchmarks and the demo."""
