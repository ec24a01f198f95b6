"""Layered networks and delta recursions in four conventions."""
