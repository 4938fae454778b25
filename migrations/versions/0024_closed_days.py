"""closed_days and partners.closed_weekdays: the days a library is closed

The network's public holidays and collective leave (rows with no library),
each library's own closed days and the days of the week it is closed. Due
dates and the hold shelf's last day move off them; a lender's days to
answer skip them.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 15:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('partners', sa.Column('closed_weekdays', sa.String(length=7), server_default='',
                                        nullable=False))
    op.create_table(
        'closed_days',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=True),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('actor', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(op.f('ix_closed_days_partner_id'), 'closed_days', ['partner_id'], unique=False)
    op.create_index(op.f('ix_closed_days_day'), 'closed_days', ['day'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_closed_days_day'), table_name='closed_days')
    op.drop_index(op.f('ix_closed_days_partner_id'), table_name='closed_days')
    op.drop_table('closed_days')
    # not batch mode: on SQLite it would copy partners, which much refers to
    op.execute("ALTER TABLE partners DROP COLUMN closed_weekdays")
