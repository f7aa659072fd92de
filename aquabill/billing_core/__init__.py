"""The billing domain: pure, typed, deterministic rules plus the set-based SQL of billing runs."""
