"""Webhooks and REST hooks: subscriptions, the delivery guard, and delivery attempts."""
