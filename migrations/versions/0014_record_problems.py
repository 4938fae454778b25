"""catalog_record_problems: what readers and librarians say is wrong with a union record

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 07:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'catalog_record_problems',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('cluster_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=30), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('other_cluster_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('closed_by_id', sa.Integer(), nullable=True),
        sa.Column('answer', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'],
                                name=op.f('fk_catalog_record_problems_closed_by_id_users')),
        sa.ForeignKeyConstraint(['cluster_id'], ['clusters.id'],
                                name=op.f('fk_catalog_record_problems_cluster_id_clusters')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_catalog_record_problems_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_record_problems')),
    )
    op.create_index(op.f('ix_catalog_record_problems_cluster_id'), 'catalog_record_problems', ['cluster_id'],
                    unique=False)
    op.create_index('ix_catalog_record_problems_status', 'catalog_record_problems', ['status', 'created_at'],
                    unique=False)
    op.create_index(op.f('ix_catalog_record_problems_user_id'), 'catalog_record_problems', ['user_id'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_catalog_record_problems_user_id'), table_name='catalog_record_problems')
    op.drop_index('ix_catalog_record_problems_status', table_name='catalog_record_problems')
    op.drop_index(op.f('ix_catalog_record_problems_cluster_id'), table_name='catalog_record_problems')
    op.drop_table('catalog_record_problems')
