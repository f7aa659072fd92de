"""Cloud fiscalization of online payments: the ATOL Online API v5 (`atol_wire.py` the wire, `atol.py` the client)
and the runner that works off the tenant's requests (`runner.py`). The states and rules are `cash/cloud.py`."""
