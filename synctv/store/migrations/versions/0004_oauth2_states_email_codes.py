"""oauth2 states and e-mail codes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 21:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('oauth2_states',
    sa.Column('state_hash', sa.String(length=64), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('purpose', sa.String(length=8), nullable=False),
    sa.Column('user_id', sa.String(length=32), nullable=True),
    sa.Column('redirect', sa.Text(), nullable=False),
    sa.Column('code_verifier', sa.String(length=128), nullable=False),
    sa.Column('nonce', sa.String(length=64), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('state_hash')
    )
    with op.batch_alter_table('oauth2_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth2_states_expires_at'), ['expires_at'], unique=False)

    op.create_table('email_codes',
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key_hash')
    )
    with op.batch_alter_table('email_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_email_codes_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('email_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_email_codes_expires_at'))
    op.drop_table('email_codes')
    with op.batch_alter_table('oauth2_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth2_states_expires_at'))
    op.drop_table('oauth2_states')
