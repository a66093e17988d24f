"""The `live` view (what the real-time streams send, and staff notifications) and its
queries."""
