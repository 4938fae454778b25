"""catalog_search_alerts: a user's search the daily tick runs for new union records

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 07:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'catalog_search_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('query_string', sa.String(length=2000), nullable=False),
        sa.Column('label', sa.String(length=300), nullable=False),
        sa.Column('seen_up_to', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('last_told_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('told', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_catalog_search_alerts_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_search_alerts')),
        sa.UniqueConstraint('user_id', 'query_string', name=op.f('uq_catalog_search_alerts_user_id_query_string')),
    )
    op.create_index(op.f('ix_catalog_search_alerts_user_id'), 'catalog_search_alerts', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_catalog_search_alerts_user_id'), table_name='catalog_search_alerts')
    op.drop_table('catalog_search_alerts')
