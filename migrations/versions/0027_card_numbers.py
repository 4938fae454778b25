"""users.card_number: the number on a patron's library card (a NIM)

Typed or scanned at the desk to find a patron, their requests and the books
waiting for them; one per library.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 16:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('card_number', sa.String(length=50), server_default='', nullable=False))
    op.create_index('ix_users_library_card', 'users', ['library_id', 'card_number'], unique=False)


def downgrade():
    op.drop_index('ix_users_library_card', table_name='users')
    # not batch mode: on SQLite it would copy users, which much refers to
    op.execute("ALTER TABLE users DROP COLUMN card_number")
