"""Mass printing of receipts: the pages and API of the printings (pages, api), their files (files) and one
receipt's PDF for the account card (account_pdf)."""
