"""CSV import (the migration path from a utility's old system) and CSV export of charges.

Public names: `import_csv` / `import_table` / `open_file` (service), `ImportReport`, `CsvFileError`, `KINDS`,
`export_charges`, `latest_charged_period`, `CHARGE_COLUMNS`.
"""

from aquabill.billing_core.imports.csvfile import CsvFileError
from aquabill.billing_core.imports.export import CHARGE_COLUMNS, export_charges, latest_charged_period
from aquabill.billing_core.imports.report import ImportReport
from aquabill.billing_core.imports.rows import KINDS
from aquabill.billing_core.imports.service import import_csv, import_table, open_file

__all__ = ["CHARGE_COLUMNS", "KINDS", "CsvFileError", "ImportReport", "export_charges", "import_csv",
           "import_table", "latest_charged_period", "open_file"]
