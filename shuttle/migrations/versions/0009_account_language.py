"""account language: accounts.language (issue 12, Welsh)

The language a person chose ("en" or "cy"), so the choice follows them to any device they sign in
on. Nullable: None until they choose (then the language cookie, else English, applies).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 16:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=5), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('language')
