"""Derived tables lose their foreign keys

match_keys, catalog_search_docs, catalog_search_holdings and catalog_fts are
worked out from the records and union records, and rebuilt from them by
`catalog recluster` and `catalog reindex`; the rows they point to are never
deleted. On PostgreSQL each foreign key fired a trigger for every row an
import wrote: 4.5 s of a 60,000-record import (see union_catalog.models).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 12:30:00

"""
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# (table, constraint, column, referred table, on delete)
_KEYS = [
    ('match_keys', 'fk_match_keys_source_record_id_source_records', 'source_record_id',
     'source_records', 'CASCADE'),
    ('catalog_search_docs', 'fk_catalog_search_docs_cluster_id_clusters', 'cluster_id',
     'clusters', 'CASCADE'),
    ('catalog_search_holdings', 'fk_catalog_search_holdings_cluster_id_clusters', 'cluster_id',
     'clusters', 'CASCADE'),
    ('catalog_search_holdings', 'fk_catalog_search_holdings_partner_id_partners', 'partner_id',
     'partners', 'CASCADE'),
]


def upgrade():
    for table, name, _column, _referred, _ondelete in _KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(name, type_='foreignkey')
    if op.get_bind().dialect.name == "postgresql":  # SQLite's FTS5 table has none
        op.execute("ALTER TABLE catalog_fts DROP CONSTRAINT IF EXISTS "
                   "fk_catalog_fts_cluster_id_clusters")


def downgrade():
    for table, name, column, referred, ondelete in _KEYS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(name, referred, [column], ['id'], ondelete=ondelete)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE catalog_fts ADD CONSTRAINT fk_catalog_fts_cluster_id_clusters "
                   "FOREIGN KEY (cluster_id) REFERENCES clusters (id) ON DELETE CASCADE")
