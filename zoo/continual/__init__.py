"""Continual learning: task streams, replay, progressive networks and the forgetting metrics."""
