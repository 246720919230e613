"""Alist (v3): the interface (`api.py`) and the in-process implementation over Alist's HTTP API (`local.py`)."""
