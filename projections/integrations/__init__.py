"""The views integrations read: the public event feed, webhooks' subscriptions and their
delivery log."""
