"""Subscribers' self-service (#13): who a subscriber is and which accounts are theirs (links), what the
portal and the bots show and accept (balance, history, readings inside the tenant's window, appeals,
inbox), the channel-agnostic bot conversation, and online payment attempts. Pure rules plus their SQL:
no web framework, messenger, HTTP client or Redis (import-linter)."""
