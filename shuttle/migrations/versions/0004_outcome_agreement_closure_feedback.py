"""outcome agreement, closure reason, feedback, aftercare (issue 11)

New tables only: the agreement, its immutable versions and items (texts encrypted in blobs), each
side's answers, item tracking, the case's closure reason, feedback answers kept apart from who
gave them (feedback_done says only that a participant is done with the questionnaire), aftercare
check-ins, the signposting directory and what was shared onto a participant's page.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 15:25:34.291158
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import shuttle.db

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agreements',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('agreed_version_id', sa.String(length=32), nullable=True),
    sa.Column('agreed_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_agreements_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('case_id', name=op.f('uq_agreements_case_id'))
    )
    op.create_table('case_closures',
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('reason', sa.String(length=30), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('at', shuttle.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_closures_case_id_cases')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_case_closures_recorded_by_accounts')),
    sa.PrimaryKeyConstraint('case_id', name=op.f('pk_case_closures'))
    )
    op.create_table('feedback_answers',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('quarter', sa.String(length=7), nullable=False),
    sa.Column('side', sa.String(length=20), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=True),
    sa.Column('recommend', sa.Boolean(), nullable=True),
    sa.Column('comment_blob_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['comment_blob_id'], ['blobs.id'], name=op.f('fk_feedback_answers_comment_blob_id_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_answers'))
    )
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_answers_quarter'), ['quarter'], unique=False)

    op.create_table('agreement_versions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('agreement_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'],
                            name=op.f('fk_agreement_versions_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_agreement_versions_created_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_versions')),
    sa.UniqueConstraint('agreement_id', 'number', name=op.f('uq_agreement_versions_agreement_id'))
    )
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_versions_agreement_id'), ['agreement_id'], unique=False)

    op.create_table('feedback_done',
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                            name=op.f('fk_feedback_done_participant_id_participants')),
    sa.PrimaryKeyConstraint('participant_id', name=op.f('pk_feedback_done'))
    )
    op.create_table('agreement_answers',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('version_id', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=20), nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('decision', sa.String(length=20), nullable=False),
    sa.Column('note_blob_id', sa.String(length=128), nullable=True),
    sa.Column('at', shuttle.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['note_blob_id'], ['blobs.id'], name=op.f('fk_agreement_answers_note_blob_id_blobs')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                            name=op.f('fk_agreement_answers_participant_id_participants')),
    sa.ForeignKeyConstraint(['version_id'], ['agreement_versions.id'],
                            name=op.f('fk_agreement_answers_version_id_agreement_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_answers')),
    sa.UniqueConstraint('version_id', 'side', name=op.f('uq_agreement_answers_version_id'))
    )
    with op.batch_alter_table('agreement_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_answers_version_id'), ['version_id'], unique=False)

    op.create_table('agreement_items',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('version_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('owner', sa.String(length=20), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('text_blob_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['text_blob_id'], ['blobs.id'], name=op.f('fk_agreement_items_text_blob_id_blobs')),
    sa.ForeignKeyConstraint(['version_id'], ['agreement_versions.id'],
                            name=op.f('fk_agreement_items_version_id_agreement_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_items')),
    sa.UniqueConstraint('version_id', 'number', name=op.f('uq_agreement_items_version_id'))
    )
    with op.batch_alter_table('agreement_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_items_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreement_items_version_id'), ['version_id'], unique=False)

    op.create_table('agreement_item_updates',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('item_id', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note_blob_id', sa.String(length=128), nullable=True),
    sa.Column('recorded_by', sa.String(length=32), nullable=False),
    sa.Column('at', shuttle.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['agreement_items.id'],
                            name=op.f('fk_agreement_item_updates_item_id_agreement_items')),
    sa.ForeignKeyConstraint(['note_blob_id'], ['blobs.id'], name=op.f('fk_agreement_item_updates_note_blob_id_blobs')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'],
                            name=op.f('fk_agreement_item_updates_recorded_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreement_item_updates'))
    )
    with op.batch_alter_table('agreement_item_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agreement_item_updates_item_id'), ['item_id'], unique=False)

    # aftercare: check-ins (their records encrypted), the signposting directory, what was shared
    op.create_table('support_services',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('helps_with', sa.String(length=500), nullable=False),
    sa.Column('how_to_reach', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_services'))
    )
    op.create_table('aftercare_checkins',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('done_by', sa.String(length=32), nullable=True),
    sa.Column('record_blob_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_aftercare_checkins_case_id_cases')),
    sa.ForeignKeyConstraint(['done_by'], ['accounts.id'], name=op.f('fk_aftercare_checkins_done_by_accounts')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                            name=op.f('fk_aftercare_checkins_participant_id_participants')),
    sa.ForeignKeyConstraint(['record_blob_id'], ['blobs.id'], name=op.f('fk_aftercare_checkins_record_blob_id_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aftercare_checkins'))
    )
    with op.batch_alter_table('aftercare_checkins', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_aftercare_checkins_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_aftercare_checkins_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_aftercare_checkins_participant_id'), ['participant_id'], unique=False)

    op.create_table('shared_support',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('service_id', sa.String(length=32), nullable=False),
    sa.Column('shared_by', sa.String(length=32), nullable=False),
    sa.Column('at', shuttle.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'],
                            name=op.f('fk_shared_support_participant_id_participants')),
    sa.ForeignKeyConstraint(['service_id'], ['support_services.id'],
                            name=op.f('fk_shared_support_service_id_support_services')),
    sa.ForeignKeyConstraint(['shared_by'], ['accounts.id'], name=op.f('fk_shared_support_shared_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shared_support')),
    sa.UniqueConstraint('participant_id', 'service_id', name=op.f('uq_shared_support_participant_id'))
    )
    with op.batch_alter_table('shared_support', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shared_support_participant_id'), ['participant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('shared_support', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shared_support_participant_id'))

    op.drop_table('shared_support')
    with op.batch_alter_table('aftercare_checkins', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_aftercare_checkins_participant_id'))
        batch_op.drop_index(batch_op.f('ix_aftercare_checkins_due_on'))
        batch_op.drop_index(batch_op.f('ix_aftercare_checkins_case_id'))

    op.drop_table('aftercare_checkins')
    op.drop_table('support_services')
    with op.batch_alter_table('agreement_item_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_item_updates_item_id'))

    op.drop_table('agreement_item_updates')
    with op.batch_alter_table('agreement_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_items_version_id'))
        batch_op.drop_index(batch_op.f('ix_agreement_items_due_on'))

    op.drop_table('agreement_items')
    with op.batch_alter_table('agreement_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_answers_version_id'))

    op.drop_table('agreement_answers')
    op.drop_table('feedback_done')
    with op.batch_alter_table('agreement_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agreement_versions_agreement_id'))

    op.drop_table('agreement_versions')
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_answers_quarter'))

    op.drop_table('feedback_answers')
    op.drop_table('case_closures')
    op.drop_table('agreements')
