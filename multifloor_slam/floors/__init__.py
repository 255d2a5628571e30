"""Which floor the robot is on: barometer filtering, ride detection, the floor table (no ROS)."""
