"""Navigating a saved building: floor switching for Nav2/AMCL and multi-floor routes (no ROS)."""
