"""The cash desk area: cashier workstation, cash book, cash points and their edge agents."""
