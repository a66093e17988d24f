"""Reports on the read side: how report rows leave as files (`export`)."""
