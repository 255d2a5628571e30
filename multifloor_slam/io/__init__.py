"""Bags (through ``rosbags``) and map/building file formats."""
