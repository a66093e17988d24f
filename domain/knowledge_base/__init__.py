"""The knowledge base: articles staff write and customers read (`article.py`), each reached
by a slug that belongs to one article at most (`slugs.py`)."""
