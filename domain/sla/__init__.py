"""Service levels: business hours, and the targets an item's answers are measured against."""
