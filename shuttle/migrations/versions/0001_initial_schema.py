"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-21 08:48:17.013678
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
import shuttle.db


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('username', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('totp_secret_enc', sa.LargeBinary(), nullable=True),
    sa.Column('totp_last_step', sa.BigInteger(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('password_changed_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('last_login_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('deactivated_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("role IN ('coordinator', 'facilitator', 'participant')", name=op.f('ck_accounts_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('username', name=op.f('uq_accounts_username'))
    )
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('actor_role', sa.String(length=32), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('case_id', sa.String(length=64), nullable=True),
    sa.Column('subject_type', sa.String(length=64), nullable=True),
    sa.Column('subject_id', sa.String(length=64), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_audit_events_subject', ['subject_type', 'subject_id'], unique=False)

    op.create_table('blobs',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('wrapped_key', sa.Text(), nullable=True),
    sa.Column('kek_version', sa.Integer(), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('shredded_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('purged_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blobs'))
    )
    op.create_table('cases',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('label_harmed', sa.String(length=80), nullable=False),
    sa.Column('label_responsible', sa.String(length=80), nullable=False),
    sa.Column('initiator', sa.String(length=20), nullable=False),
    sa.Column('responsible_may_reply', sa.Boolean(), nullable=False),
    sa.Column('approvals_required', sa.Integer(), nullable=False),
    sa.Column('author_must_accept_edits', sa.Boolean(), nullable=False),
    sa.Column('read_receipts_allowed', sa.Boolean(), nullable=False),
    sa.Column('watchlist', sa.JSON(), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    op.create_table('jobs',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('run_after', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('lease_token', sa.String(length=64), nullable=True),
    sa.Column('lease_expires_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('worker_id', sa.String(length=200), nullable=True),
    sa.Column('progress', sa.Integer(), nullable=True),
    sa.Column('progress_note', sa.String(length=500), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('result', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('finished_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.CheckConstraint("state IN ('queued', 'running', 'done', 'dead')", name=op.f('ck_jobs_state')),
    sa.CheckConstraint('progress IS NULL OR (progress >= 0 AND progress <= 100)', name=op.f('ck_jobs_progress_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.create_index('ix_jobs_state_lease_expires_at', ['state', 'lease_expires_at'], unique=False)
        batch_op.create_index('ix_jobs_state_run_after', ['state', 'run_after'], unique=False)

    op.create_table('login_failures',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('at', shuttle.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_failures'))
    )
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_login_failures_at'), ['at'], unique=False)
        batch_op.create_index('ix_login_failures_key_at', ['key', 'at'], unique=False)

    op.create_table('account_invitations',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('used_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_account_invitations_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_invitations')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_account_invitations_code_hash'))
    )
    with op.batch_alter_table('account_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_invitations_account_id'), ['account_id'], unique=False)

    op.create_table('auth_sessions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('stage', sa.String(length=20), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('absolute_expires_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('user_agent', sa.String(length=200), nullable=False),
    sa.CheckConstraint("stage IN ('totp', 'set_password', 'full')", name=op.f('ck_auth_sessions_stage')),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_auth_sessions_account_id_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_sessions_token_hash'))
    )
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_sessions_account_id'), ['account_id'], unique=False)

    op.create_table('case_facilitators',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_case_facilitators_account_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_facilitators_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_facilitators')),
    sa.UniqueConstraint('case_id', 'account_id', name=op.f('uq_case_facilitators_case_id'))
    )
    with op.batch_alter_table('case_facilitators', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_facilitators_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_facilitators_case_id'), ['case_id'], unique=False)

    op.create_table('participants',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=32), nullable=False),
    sa.Column('side', sa.String(length=20), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('acting_for', sa.String(length=120), nullable=False),
    sa.Column('holding_deliveries', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_participants_account_id_accounts')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_participants_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_participants')),
    sa.UniqueConstraint('case_id', 'account_id', name=op.f('uq_participants_case_id'))
    )
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_participants_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_participants_case_id'), ['case_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=True),
    sa.Column('recorded_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_assessments_participant_id_participants')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_assessments_recorded_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_participant_id'), ['participant_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('recorded_by', sa.String(length=32), nullable=True),
    sa.Column('recorded_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_consents_participant_id_participants')),
    sa.ForeignKeyConstraint(['recorded_by'], ['accounts.id'], name=op.f('fk_consents_recorded_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_participant_id'), ['participant_id'], unique=False)

    op.create_table('messages',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('author_participant_id', sa.String(length=32), nullable=False),
    sa.Column('written_by', sa.String(length=32), nullable=False),
    sa.Column('author_side', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=30), nullable=False),
    sa.Column('held_from', sa.String(length=30), nullable=True),
    sa.Column('draft_blob_id', sa.String(length=128), nullable=True),
    sa.Column('draft_upload_id', sa.String(length=32), nullable=True),
    sa.Column('current_version_id', sa.String(length=32), nullable=True),
    sa.Column('approved_version_id', sa.String(length=32), nullable=True),
    sa.Column('claimed_by', sa.String(length=32), nullable=True),
    sa.Column('claimed_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('processing_job_id', sa.String(length=32), nullable=True),
    sa.Column('rejection_code', sa.String(length=40), nullable=True),
    sa.Column('scheduled_release_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('submitted_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('released_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('opened_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('receipt_shared', sa.Boolean(), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('updated_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['author_participant_id'], ['participants.id'], name=op.f('fk_messages_author_participant_id_participants')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_messages_case_id_cases')),
    sa.ForeignKeyConstraint(['claimed_by'], ['accounts.id'], name=op.f('fk_messages_claimed_by_accounts')),
    sa.ForeignKeyConstraint(['draft_blob_id'], ['blobs.id'], name=op.f('fk_messages_draft_blob_id_blobs')),
    sa.ForeignKeyConstraint(['written_by'], ['accounts.id'], name=op.f('fk_messages_written_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_messages'))
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_author_participant_id'), ['author_participant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_messages_state'), ['state'], unique=False)

    op.create_table('message_versions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=20), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('body_blob_id', sa.String(length=128), nullable=True),
    sa.Column('body_upload_id', sa.String(length=32), nullable=True),
    sa.Column('poster_blob_id', sa.String(length=128), nullable=True),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=40), nullable=True),
    sa.Column('edits', sa.JSON(), nullable=True),
    sa.Column('processing_error', sa.String(length=300), nullable=True),
    sa.Column('processed_blob_id', sa.String(length=128), nullable=True),
    sa.Column('transcript_blob_id', sa.String(length=128), nullable=True),
    sa.Column('report_blob_id', sa.String(length=128), nullable=True),
    sa.Column('flag_count', sa.Integer(), nullable=False),
    sa.Column('processed_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('author_decision', sa.String(length=20), nullable=True),
    sa.ForeignKeyConstraint(['body_blob_id'], ['blobs.id'], name=op.f('fk_message_versions_body_blob_id_blobs')),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_message_versions_created_by_accounts')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_message_versions_message_id_messages')),
    sa.ForeignKeyConstraint(['poster_blob_id'], ['blobs.id'], name=op.f('fk_message_versions_poster_blob_id_blobs')),
    sa.ForeignKeyConstraint(['processed_blob_id'], ['blobs.id'], name=op.f('fk_message_versions_processed_blob_id_blobs')),
    sa.ForeignKeyConstraint(['report_blob_id'], ['blobs.id'], name=op.f('fk_message_versions_report_blob_id_blobs')),
    sa.ForeignKeyConstraint(['transcript_blob_id'], ['blobs.id'], name=op.f('fk_message_versions_transcript_blob_id_blobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_versions')),
    sa.UniqueConstraint('message_id', 'number', name=op.f('uq_message_versions_message_id'))
    )
    with op.batch_alter_table('message_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_versions_message_id'), ['message_id'], unique=False)

    op.create_table('recipient_requests',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('case_id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('participant_id', sa.String(length=32), nullable=False),
    sa.Column('requested_by', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('note_blob_id', sa.String(length=128), nullable=True),
    sa.Column('requested_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('handled_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.Column('handled_by', sa.String(length=32), nullable=True),
    sa.Column('outcome', sa.String(length=20), nullable=True),
    sa.Column('outcome_note_blob_id', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_recipient_requests_case_id_cases')),
    sa.ForeignKeyConstraint(['handled_by'], ['accounts.id'], name=op.f('fk_recipient_requests_handled_by_accounts')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_recipient_requests_message_id_messages')),
    sa.ForeignKeyConstraint(['note_blob_id'], ['blobs.id'], name=op.f('fk_recipient_requests_note_blob_id_blobs')),
    sa.ForeignKeyConstraint(['outcome_note_blob_id'], ['blobs.id'], name=op.f('fk_recipient_requests_outcome_note_blob_id_blobs')),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_recipient_requests_participant_id_participants')),
    sa.ForeignKeyConstraint(['requested_by'], ['accounts.id'], name=op.f('fk_recipient_requests_requested_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipient_requests'))
    )
    with op.batch_alter_table('recipient_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recipient_requests_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recipient_requests_message_id'), ['message_id'], unique=False)

    op.create_table('review_notes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('written_by', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('for_author', sa.Boolean(), nullable=False),
    sa.Column('blob_id', sa.String(length=128), nullable=False),
    sa.Column('at', shuttle.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_review_notes_blob_id_blobs')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_review_notes_message_id_messages')),
    sa.ForeignKeyConstraint(['written_by'], ['accounts.id'], name=op.f('fk_review_notes_written_by_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_notes'))
    )
    with op.batch_alter_table('review_notes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_notes_message_id'), ['message_id'], unique=False)

    op.create_table('uploads',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=32), nullable=False),
    sa.Column('length', sa.BigInteger(), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('created_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('expires_at', shuttle.db.UTCDateTime(), nullable=False),
    sa.Column('completed_at', shuttle.db.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['accounts.id'], name=op.f('fk_uploads_created_by_accounts')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_uploads_message_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_uploads'))
    )
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_uploads_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_uploads_message_id'), ['message_id'], unique=False)

    op.create_table('approvals',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=32), nullable=False),
    sa.Column('version_id', sa.String(length=32), nullable=False),
    sa.Column('facilitator_id', sa.String(length=32), nullable=False),
    sa.Column('at', shuttle.db.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['facilitator_id'], ['accounts.id'], name=op.f('fk_approvals_facilitator_id_accounts')),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], name=op.f('fk_approvals_message_id_messages')),
    sa.ForeignKeyConstraint(['version_id'], ['message_versions.id'], name=op.f('fk_approvals_version_id_message_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_approvals')),
    sa.UniqueConstraint('version_id', 'facilitator_id', name=op.f('uq_approvals_version_id'))
    )
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approvals_message_id'), ['message_id'], unique=False)

    op.create_table('upload_parts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('upload_id', sa.String(length=32), nullable=False),
    sa.Column('offset', sa.BigInteger(), nullable=False),
    sa.Column('length', sa.BigInteger(), nullable=False),
    sa.Column('blob_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['blob_id'], ['blobs.id'], name=op.f('fk_upload_parts_blob_id_blobs')),
    sa.ForeignKeyConstraint(['upload_id'], ['uploads.id'], name=op.f('fk_upload_parts_upload_id_uploads')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_upload_parts')),
    sa.UniqueConstraint('upload_id', 'offset', name=op.f('uq_upload_parts_upload_id'))
    )
    with op.batch_alter_table('upload_parts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_upload_parts_upload_id'), ['upload_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('upload_parts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_upload_parts_upload_id'))

    op.drop_table('upload_parts')
    with op.batch_alter_table('approvals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approvals_message_id'))

    op.drop_table('approvals')
    with op.batch_alter_table('uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_uploads_message_id'))
        batch_op.drop_index(batch_op.f('ix_uploads_expires_at'))

    op.drop_table('uploads')
    with op.batch_alter_table('review_notes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_notes_message_id'))

    op.drop_table('review_notes')
    with op.batch_alter_table('recipient_requests', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recipient_requests_message_id'))
        batch_op.drop_index(batch_op.f('ix_recipient_requests_case_id'))

    op.drop_table('recipient_requests')
    with op.batch_alter_table('message_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_versions_message_id'))

    op.drop_table('message_versions')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_state'))
        batch_op.drop_index(batch_op.f('ix_messages_case_id'))
        batch_op.drop_index(batch_op.f('ix_messages_author_participant_id'))

    op.drop_table('messages')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_participant_id'))

    op.drop_table('consents')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_participant_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_participants_case_id'))
        batch_op.drop_index(batch_op.f('ix_participants_account_id'))

    op.drop_table('participants')
    with op.batch_alter_table('case_facilitators', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_facilitators_case_id'))
        batch_op.drop_index(batch_op.f('ix_case_facilitators_account_id'))

    op.drop_table('case_facilitators')
    with op.batch_alter_table('auth_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_sessions_account_id'))

    op.drop_table('auth_sessions')
    with op.batch_alter_table('account_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_invitations_account_id'))

    op.drop_table('account_invitations')
    with op.batch_alter_table('login_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_login_failures_key_at')
        batch_op.drop_index(batch_op.f('ix_login_failures_at'))

    op.drop_table('login_failures')
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_jobs_state_run_after')
        batch_op.drop_index('ix_jobs_state_lease_expires_at')

    op.drop_table('jobs')
    op.drop_table('cases')
    op.drop_table('blobs')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_subject')
        batch_op.drop_index(batch_op.f('ix_audit_events_case_id'))

    op.drop_table('audit_events')
    op.drop_table('accounts')
