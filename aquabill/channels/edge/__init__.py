"""The edge-agent gateway: agents connect outbound over a WebSocket and take their command queue."""
