"""Round archives: a whole round exported as one file, and imported (replayed) elsewhere."""
