"""HTTP and WebSocket layer: routes, pages, middleware."""
