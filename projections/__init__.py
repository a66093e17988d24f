"""The read side: projections (events -> rows) and the queries of each view."""
