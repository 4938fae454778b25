"""account_changes: who did what to an account and when

Added, invited, deactivated, activated, changed, password set by link,
personal data erased (ill.people).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-07 16:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'account_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_account_changes_user_id'), 'account_changes', ['user_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_account_changes_user_id'), table_name='account_changes')
    op.drop_table('account_changes')
