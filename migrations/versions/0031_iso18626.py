"""ISO 18626 with partners whose own system answers requests

partners.agency_id (TYPE:VALUE) and partners.iso18626_url; every ISO 18626
message sent or received, kept per request (ill.iso18626).

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-07 18:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('partners', sa.Column('agency_id', sa.String(length=100), server_default='', nullable=False))
    op.add_column('partners', sa.Column('iso18626_url', sa.String(length=500), server_default='', nullable=False))
    op.create_table(
        'iso18626_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.Integer(), nullable=True),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('direction', sa.String(length=3), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('summary', sa.String(length=60), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('state', sa.String(length=10), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.Column('remote_id', sa.String(length=200), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id']),
        sa.ForeignKeyConstraint(['request_id'], ['loan_requests.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_iso18626_messages_partner_id'), 'iso18626_messages', ['partner_id'], unique=False)
    op.create_index(op.f('ix_iso18626_messages_request_id'), 'iso18626_messages', ['request_id'], unique=False)
    op.create_index(op.f('ix_iso18626_messages_state'), 'iso18626_messages', ['state'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_iso18626_messages_state'), table_name='iso18626_messages')
    op.drop_index(op.f('ix_iso18626_messages_request_id'), table_name='iso18626_messages')
    op.drop_index(op.f('ix_iso18626_messages_partner_id'), table_name='iso18626_messages')
    op.drop_table('iso18626_messages')
    # not batch mode: on SQLite it would copy partners, which much refers to
    op.execute("ALTER TABLE partners DROP COLUMN iso18626_url")
    op.execute("ALTER TABLE partners DROP COLUMN agency_id")
