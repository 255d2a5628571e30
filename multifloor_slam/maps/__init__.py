"""One occupancy layer per floor, re-anchored at elevator rides, joined by links (no ROS)."""
