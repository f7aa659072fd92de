"""Address registry (settlement → street → house → premise) and personal accounts."""
