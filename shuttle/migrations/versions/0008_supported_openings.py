"""supported openings: open a message with the facilitator (issue 12)

A recipient asks to open a released message together with their facilitator; the facilitator
arranges a time and starts a session in which, only, the message opens. One row per request
(shuttle/messages/supported_opening.py); the note is an encrypted blob. A new table: nothing
written before this revision changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 16:38:27.082831
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shuttle.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('supported_openings',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('requested_by', sa.String(length=32), nullable=False),
    sa.Column('note_blob_id', sa.String(length=128), nullable=True),
    sa.Column('requested_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('arranged_for', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('arranged_by', sa.String(length=32), nullable=True),
    sa.Column('session_started_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('session_started_by', sa.String(length=32), nullable=True),
    sa.Column('session_until', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('done_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['arranged_by'], ['accounts.id'], name=op.f('fk_supported_openings_arranged_by_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_supported_openings_case_id_cases')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_supported_openings_message_id_messages')),
    sa.ForeignKeyConstraint(['note_blob_id'], ['blobs.id'], name=op.f('fk_supported_openings_note_blob_id_blobs')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                            name=op.f('fk_supported_openings_participant_id_participants')),
    sa.ForeignKeyConstraint(['requested_by'], ['accounts.id'],
                            name=op.f('fk_supported_openings_requested_by_accounts')),
    sa.ForeignKeyConstraint(['session_started_by'], ['accounts.id'],
                            name=op.f('fk_supported_openings_session_started_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supported_openings'))
    )
    with op.batch_alter_table('supported_openings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supported_openings_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supported_openings_message_id'), ['message_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('supported_openings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supported_openings_message_id'))
        batch_op.drop_index(batch_op.f('ix_supported_openings_case_id'))

    op.drop_table('supported_openings')
