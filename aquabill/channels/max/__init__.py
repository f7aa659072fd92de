"""MAX: the tenants' bots over the MAX Bot API (httpx): webhook subscription with its secret header, inline
keyboards, button answers, file uploads, paced sending with 429 retries, and the set-up."""
