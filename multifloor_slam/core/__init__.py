"""Algorithms as plain Python on numpy/scipy/opencv/open3d: no rclpy import anywhere here."""
