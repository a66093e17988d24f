"""Webhooks: subscriptions to the public events, their deliveries, and where a delivery may
go."""
