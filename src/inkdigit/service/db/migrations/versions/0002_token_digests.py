"""Session and bearer tokens are kept as their SHA-256 digest, not as issued.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03

Rows written before this revision hold the token itself (it begins with its kind, "s." or
"b."; a digest never holds a "."): each is replaced by its digest, so sessions that were signed
in stay signed in. The column's width (43) already fits a digest. No way back: a digest cannot
be turned into its token again, so the downgrade signs everybody out.
"""

from __future__ import annotations

import base64
import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_tokens = sa.table("accesstoken", sa.column("token", sa.String(43)))


def _digest(token: str) -> str:  # inkdigit.service.accounts.manager.token_digest, frozen here
    return base64.urlsafe_b64encode(hashlib.sha256(token.encode()).digest()).rstrip(b"=").decode()


def upgrade() -> None:
    connection = op.get_bind()
    issued = connection.execute(sa.select(_tokens.c.token).where(_tokens.c.token.like("%.%"))).scalars().all()
    for token in issued:
        connection.execute(_tokens.update().where(_tokens.c.token == token).values(token=_digest(token)))


def downgrade() -> None:
    op.execute(_tokens.delete())
