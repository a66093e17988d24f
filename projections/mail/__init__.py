"""The mail channel's views."""
