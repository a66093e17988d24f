"""The ledgerdesk model: aggregates, their events, value objects and domain errors.

Imports only the standard library and eventsourcing.domain; no I/O.
"""
