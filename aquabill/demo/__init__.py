"""The demo tenant: registry, billing history, payments, appeals and a simulated PBX (for `make run`)."""
