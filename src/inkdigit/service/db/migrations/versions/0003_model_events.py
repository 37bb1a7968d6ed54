"""Which model is served: the log of promotions and rollbacks, and each user's personal model.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10

Both tables are new and start empty: with no event the live model is the configured default,
and with no ``personal_model`` row a user has not opted in.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from fastapi_users_db_sqlalchemy.generics import GUID, TIMESTAMPAware

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('model_event',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', TIMESTAMPAware(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=False),
    sa.Column('actor', sa.String(length=320), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('model_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_event_at'), ['at'], unique=False)

    op.create_table('personal_model',
    sa.Column('user_id', GUID(), nullable=False),
    sa.Column('enabled', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('model', sa.String(length=100), nullable=True),
    sa.Column('updated_at', TIMESTAMPAware(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='cascade'),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('personal_model')
    with op.batch_alter_table('model_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_event_at'))

    op.drop_table('model_event')
