"""The mail channel's write side: parsing received bytes, receiving them into items, the
mailboxes and the quarantine."""
