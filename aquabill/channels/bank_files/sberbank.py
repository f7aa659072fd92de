"""Sberbank-style payment registry of individuals' payments: one payment per `;`-separated line, an
optional `=` trailer with the line count and totals.

No public specification of these registries exists (see the reference NOTES: the column layout is agreed
in each agent's contract), so the column order is a `RegistryLayout` the importer is configured with; the
default is the order of the payments issue: date; time; branch; cashier; operation id; personal account;
payer (name and/or address); period; amount; commission; then meter readings as `serial:value` cells.

Partial failure is the rule: a bad line is refused with its number and a Russian reason, the good lines are
kept. Problems of the file as a whole (a trailer that does not match, lines after the trailer) go to
`file_errors`; the caller must reject the whole registry then (`accepted` is false).

`read_registry` gives the kept lines as plain `RegistryRow` tuples (for bulk loading: no object per line);
`parse_registry` gives the same as `RegistryPayment`s. A line takes a fast path (cached dates, times and
periods, one pattern per amount); anything the fast path does not vouch for is read again by the full
checks, which word the reasons.

Here are the two entry points; the layout and the results are `sberbank_layout`'s, the line reader
`sberbank_parser`'s.
"""

from __future__ import annotations

from aquabill.channels.bank_files.common import checksum, decode
from aquabill.channels.bank_files.sberbank_layout import (
    DEFAULT_LAYOUT,
    RegistryLayout,
    RegistryParseResult,
    RegistryPayment,
    RegistryRows,
)
from aquabill.channels.bank_files.sberbank_parser import RegistryParser


def read_registry(data: bytes, layout: RegistryLayout = DEFAULT_LAYOUT, *, fast: bool = True) -> RegistryRows:
    """Read a whole registry file, the kept lines as tuples. Raises `BankFileError` only when the file
    cannot be read at all. `fast=False` reads every line by the full checks (same result, slower)."""
    text, encoding = decode(data, layout.encoding)
    parser = RegistryParser(layout, fast=fast)
    parser.read(text)
    return parser.finish(checksum(data), encoding)


def parse_registry(data: bytes, layout: RegistryLayout = DEFAULT_LAYOUT) -> RegistryParseResult:
    """Read a whole registry file. Raises `BankFileError` only when the file cannot be read at all."""
    r = read_registry(data, layout)
    return RegistryParseResult(
        checksum=r.checksum, encoding=r.encoding, payments=tuple(RegistryPayment(*row) for row in r.rows),
        errors=r.errors, warnings=r.warnings, file_errors=r.file_errors, trailer=r.trailer,
        lines_read=r.lines_read,
    )

