"""Month arithmetic in SQL."""

# month index of a date: months are compared as year * 12 + month
MI = "(extract(year FROM {d})::int * 12 + extract(month FROM {d})::int)"


def mi(expr: str) -> str:
    return MI.format(d=expr)
