"""Background jobs (arq): a registry of job kinds, the per-tenant job table, the worker."""
