"""catalog_search_docs.words_digest: a digest of each union record's words

A reindex writes a union record's words to the full-text table only when
their digest changed: about half of the union records an import touches
gain a library's copy and keep their words (on PostgreSQL each write costs
to_tsvector and a GIN entry per word). NULL until the next reindex, which
then writes them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 17:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('words_digest', sa.BigInteger(), nullable=True))


def downgrade():
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.drop_column('words_digest')
