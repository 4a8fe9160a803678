"""retention and legal hold (issue 11)

Columns on cases only: when a case was closed and when its content is due to be crypto-shredded
(both filled in by the periodic tick once a case is closed, so cases closed before this revision
are scheduled on its first run), when it was shredded, and a legal hold (its reason and since
when). Two indexes: the due time, and closed cases not yet scheduled.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 15:59:31.927389
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shuttle.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', shuttle.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('destroy_after', shuttle.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('shredded_at', shuttle.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('legal_hold_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('legal_hold_since', shuttle.db.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_cases_destroy_after'), ['destroy_after'], unique=False)
        batch_op.create_index('ix_cases_status_closed_at', ['status', 'closed_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_closed_at')
        batch_op.drop_index(batch_op.f('ix_cases_destroy_after'))
        batch_op.drop_column('legal_hold_since')
        batch_op.drop_column('legal_hold_reason')
        batch_op.drop_column('shredded_at')
        batch_op.drop_column('destroy_after')
        batch_op.drop_column('closed_at')
