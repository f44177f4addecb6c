"""Thin RQ entry points: each takes ids and calls a service that does the work."""
