"""replies: messages.in_reply_to_id (issue 12)

A message may answer another of its case: the one delivered to its author's side and opened by
it, from which the reply was started (`messages.replies` checks that). Nullable: a message that
answers none, and every message written before this revision, has none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 16:05:47.455164
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('in_reply_to_id', sa.String(length=32), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_messages_in_reply_to_id_messages'), 'messages',
                                    ['in_reply_to_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_messages_in_reply_to_id_messages'), type_='foreignkey')
        batch_op.drop_column('in_reply_to_id')
