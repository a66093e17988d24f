"""Mail as the model sees it: the decisions about a received message (where it belongs,
whether it is automatic, a bounce, a loop or a duplicate) as pure functions and aggregates,
over a parsed message value. Parsing and transports live outside the domain."""
