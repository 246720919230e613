"""Operator maintenance commands that work on the database files: backup and restore."""
