"""Use cases. Each takes the ``Services`` bundle from the composition root and plain data."""
