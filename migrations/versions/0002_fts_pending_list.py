"""catalog_fts: the GIN index takes new entries into its pending list

Imports write the full-text index in bulk and then merge the pending list in
one pass (union_catalog.search_schema.settle); adding each word to the index
as it came cost a PostgreSQL import of 60,000 records about 3 seconds more.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:20:00

"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_catalog_fts_doc SET (fastupdate = on)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER INDEX ix_catalog_fts_doc SET (fastupdate = off)")
