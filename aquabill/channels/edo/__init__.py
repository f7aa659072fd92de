"""EDO (electronic document exchange) with counterparties: the Kontur.Diadoc HTTP client, the signer interface,
and the pass that sends and polls a tenant's messages."""
