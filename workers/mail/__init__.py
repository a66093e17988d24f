"""The mail channel's processes: the SMTP/LMTP receiver."""
