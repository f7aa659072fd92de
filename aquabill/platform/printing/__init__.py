"""Printing receipts: one receipt's PDF for every door (receipt_files), the mass printing's batches and
bundles (batches), and the export for external print houses (export, with its XSD)."""

from aquabill.platform.printing.receipt_files import layout_of, print_layout, receipt_file_name, receipt_pdf

__all__ = ["layout_of", "print_layout", "receipt_file_name", "receipt_pdf"]
