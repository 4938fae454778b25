"""patron_suspensions: a borrowing library stops a patron's requests until a day

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 10:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'patron_suspensions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('patron_id', sa.Integer(), nullable=False),
        sa.Column('until', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=255), nullable=False),
        sa.Column('created_by', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('lifted_by', sa.Integer(), nullable=True),
        sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['patron_id'], ['users.id'], name=op.f('fk_patron_suspensions_patron_id_users'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_patron_suspensions_created_by_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['lifted_by'], ['users.id'], name=op.f('fk_patron_suspensions_lifted_by_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_patron_suspensions')),
    )
    op.create_index(op.f('ix_patron_suspensions_patron_id'), 'patron_suspensions', ['patron_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_patron_suspensions_patron_id'), table_name='patron_suspensions')
    op.drop_table('patron_suspensions')
