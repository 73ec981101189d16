"""Adapters: the only code that talks to AWS (PynamoDB models) or verifies tokens."""
