"""Pure ASGI and pure WSGI middleware: one pass per request does everything the kit does."""
