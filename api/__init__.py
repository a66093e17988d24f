"""The HTTP API: routers that turn requests into commands (writes) or view queries (reads)."""
