"""The cash desk (#15): cash points and their edge agents, cashier shifts, sales and refunds fiscalized by the
register on site, cash orders and the cash book, third-party services. Pure rules plus their SQL."""
