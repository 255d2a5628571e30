"""Thin rclpy nodes: parameters, QoS and message conversion around ``multifloor_slam.core``."""
