"""Incoming payment files from banks and payment agents: pure readers of the wire formats.

- `sberbank`: Sberbank-style `;` registries of individuals' payments (layout per agent contract;
  `sberbank_layout` the columns and results, `sberbank_parser` the line reader);
- `clientbank_1c`: 1C «client-bank» statements (`1CClientBankExchange`), payments of legal entities.

Readers take bytes and return typed results with Decimal money, refused lines with Russian reasons and the
file's sha256; storing, identifying and allocating payments is the caller's job.
"""

from aquabill.channels.bank_files.clientbank_1c import (
    AccountSection,
    BankDocument,
    Party,
    Statement,
    parse_statement,
)
from aquabill.channels.bank_files.common import BankFileError, LineError
from aquabill.channels.bank_files.sberbank import parse_registry, read_registry
from aquabill.channels.bank_files.sberbank_layout import (
    DEFAULT_LAYOUT,
    MeterReading,
    RegistryLayout,
    RegistryParseResult,
    RegistryPayment,
    RegistryRow,
    RegistryRows,
    RegistryTrailer,
)

__all__ = [
    "DEFAULT_LAYOUT",
    "AccountSection",
    "BankDocument",
    "BankFileError",
    "LineError",
    "MeterReading",
    "Party",
    "RegistryLayout",
    "RegistryParseResult",
    "RegistryPayment",
    "RegistryRow",
    "RegistryRows",
    "RegistryTrailer",
    "Statement",
    "parse_registry",
    "parse_statement",
    "read_registry",
]
