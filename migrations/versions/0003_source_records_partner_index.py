"""source_records: no index of its own on partner_id

The unique index on (partner_id, record_key) begins with partner_id and
serves every lookup by partner; the second index only cost upkeep on every
record an import writes or updates.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 10:05:00

"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('source_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_source_records_partner_id'))


def downgrade():
    with op.batch_alter_table('source_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_source_records_partner_id'), ['partner_id'], unique=False)
