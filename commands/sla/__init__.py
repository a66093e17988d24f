"""Service levels: SLA policies, and the SLA each item is held to."""
