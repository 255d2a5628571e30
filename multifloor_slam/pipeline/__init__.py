"""Offline processing: the same core calls the three nodes make, wired without middleware."""
