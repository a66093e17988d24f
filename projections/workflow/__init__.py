"""Workflow: what follows from the configuration of statuses."""
