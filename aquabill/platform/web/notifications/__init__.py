"""The notification center's web area: templates, opt-outs, sending rules, campaigns (API and pages)."""
