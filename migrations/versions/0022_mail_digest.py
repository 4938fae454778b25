"""users.mail_digest, mail_outbox.held and digest_id: one mail a day

A user may read their mail once a day: the mails of the day wait (held) and
the tick sends one digest of them (digest_id: the digest's row).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 12:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('mail_digest', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('mail_outbox', sa.Column('held', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('mail_outbox', sa.Column('digest_id', sa.Integer(), nullable=True))


def downgrade():
    # not batch mode: on SQLite it would copy the tables, which much refers to
    op.execute("ALTER TABLE mail_outbox DROP COLUMN digest_id")
    op.execute("ALTER TABLE mail_outbox DROP COLUMN held")
    op.execute("ALTER TABLE users DROP COLUMN mail_digest")
