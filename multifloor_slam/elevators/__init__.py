"""Elevator detection: the YOLO detector, its training recipe and the elevator state (no ROS)."""
