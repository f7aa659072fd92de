"""Meters and readings: validation rules (pure) and the queries that record readings."""
