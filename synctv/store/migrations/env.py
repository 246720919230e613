"""Alembic environment: runs on the connection the application hands over (see store/database.py)."""

from alembic import context

from synctv.store.models import Base

target_metadata = Base.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("migrations run through synctv (synctv migrate), which supplies the connection")
context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
