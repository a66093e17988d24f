"""ledgerdesk's entry points: the settings, the composition root and the command line.

The layer packages (`domain`, `commands`, `projections`, `api`, `workers`) sit beside this
one; only this package reads the environment and wires them together.
"""
