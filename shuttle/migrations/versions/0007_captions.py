"""captions: message_versions.captions_blob_id (issue 12)

A recording's transcript may be timed (WebVTT as the version's transcript); the worker checks the
cues against the delivered media's length, reduces them to plain text and stores them encrypted
here. Nullable: a version without timed transcript, and every version written before this
revision, has none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 16:27:36.108563
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('message_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('captions_blob_id', sa.String(length=128), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_message_versions_captions_blob_id_blobs'), 'blobs',
                                    ['captions_blob_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('message_versions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_message_versions_captions_blob_id_blobs'), type_='foreignkey')
        batch_op.drop_column('captions_blob_id')
