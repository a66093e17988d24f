"""Orchestration of the web intake: admins' item types and forms, and submissions."""
