"""Administration pages and APIs: sign-in, users, audit, jobs, platform tenants, divisions."""
