"""Elevator detector training: synthetic data set generation and Ultralytics training."""
