"""items: a copy's library is its record's

items.partner_id repeated source_records.partner_id: two places for one
fact, which nothing kept equal, and a foreign key checked for every copy an
import writes (on PostgreSQL, a trigger per row: 0.9 s of a 60,000-record
import, with its index). A copy's library is now read through its record.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 17:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.drop_constraint('fk_items_partner_id_partners', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_items_partner_id'))
        batch_op.drop_column('partner_id')


def downgrade():
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('partner_id', sa.Integer(), nullable=True))
    op.execute("UPDATE items SET partner_id = (SELECT partner_id FROM source_records "
               "WHERE source_records.id = items.source_record_id)")
    with op.batch_alter_table('items', schema=None) as batch_op:
        batch_op.alter_column('partner_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_items_partner_id'), ['partner_id'], unique=False)
        batch_op.create_foreign_key('fk_items_partner_id_partners', 'partners', ['partner_id'], ['id'])
