"""Background processes: the projection runner process (and, later, dramatiq actors)."""
