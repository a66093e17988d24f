"""Service levels: the SLA view, and the outbox policies that keep items measured."""
