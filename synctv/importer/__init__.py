"""Importing data from other servers: `synctv import-upstream` reads an upstream SyncTV (Go) database."""
