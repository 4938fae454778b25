"""catalog_status_updates: copies' statuses a library's system sends between exports

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 07:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'catalog_status_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('read', sa.Integer(), nullable=False),
        sa.Column('changed', sa.Integer(), nullable=False),
        sa.Column('unchanged', sa.Integer(), nullable=False),
        sa.Column('problems', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_catalog_status_updates_partner_id_partners'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_catalog_status_updates_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_status_updates')),
    )
    op.create_index(op.f('ix_catalog_status_updates_partner_id'), 'catalog_status_updates', ['partner_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_catalog_status_updates_partner_id'), table_name='catalog_status_updates')
    op.drop_table('catalog_status_updates')
