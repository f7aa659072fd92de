"""The month billing run: set-based SQL over a whole tenant, one house or one account."""
