"""The live channel: the WebSocket endpoint, its per-socket outlet and the open-sockets book."""
