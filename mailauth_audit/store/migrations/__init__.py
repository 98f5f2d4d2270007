"""Alembic migrations of the history store (see store/connect.py)."""
