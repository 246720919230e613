"""chat history and the room's play mode

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 04:20:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('chat_messages',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('room_id', sa.String(length=32), nullable=False),
    sa.Column('sent_at_ms', sa.BigInteger(), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=256), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.create_index('ix_chat_messages_room', ['room_id', 'id'], unique=False)
    with op.batch_alter_table('room_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('play_mode', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('play_next_delay', sa.Integer(), nullable=False, server_default='3'))


def downgrade() -> None:
    with op.batch_alter_table('room_settings', schema=None) as batch_op:
        batch_op.drop_column('play_next_delay')
        batch_op.drop_column('play_mode')
    with op.batch_alter_table('chat_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_chat_messages_room')
    op.drop_table('chat_messages')
