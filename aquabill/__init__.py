"""Aquabill: multi-tenant billing and customer service for water utilities."""

__version__ = "0.1.0"
