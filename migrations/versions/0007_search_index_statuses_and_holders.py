"""The search index keeps the statuses of each library's copies and each
union record's holders

catalog_search_holdings.statuses: a page of search results says, per
library, whether a signed-in patron's library may ask it for a loan or a
copy; that turns on which statuses the library's copies have (any on the
shelf, all on loan, reference only...). Kept beside the counts, so that a
page is judged without reading every record and item of its twenty union
records.

catalog_search_docs.holders: the holding libraries' ids (an integer array on
PostgreSQL, a JSON list on SQLite), which PostgreSQL's library facet and
filter read beside each hit instead of looking its holdings up.

Both filled here as a reindex would write them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 18:40:00

"""
import json

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('catalog_search_holdings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statuses', sa.String(length=64), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'holders', sa.JSON().with_variant(postgresql.ARRAY(sa.Integer()), 'postgresql'), nullable=True))
    conn = op.get_bind()
    holders: dict[int, list[int]] = {}
    for cluster_id, partner_id in conn.execute(sa.text(
            "SELECT cluster_id, partner_id FROM catalog_search_holdings ORDER BY cluster_id, partner_id")):
        holders.setdefault(cluster_id, []).append(partner_id)
    if holders:
        # as a reindex writes them: an array, or compact JSON text
        value = (lambda ids: ids) if conn.dialect.name == "postgresql" else (
            lambda ids: json.dumps(ids, separators=(",", ":")))
        conn.execute(
            sa.text("UPDATE catalog_search_docs SET holders = :holders WHERE cluster_id = :cluster_id"),
            [{"cluster_id": c, "holders": value(ids)} for c, ids in holders.items()])
    found: dict[tuple[int, int], set[str]] = {}
    for cluster_id, partner_id, status in conn.execute(sa.text(
            "SELECT r.cluster_id, r.partner_id, i.status FROM source_records r "
            "JOIN items i ON i.source_record_id = r.id "
            "WHERE r.withdrawn_at IS NULL AND r.cluster_id IS NOT NULL "
            "GROUP BY r.cluster_id, r.partner_id, i.status")):
        found.setdefault((cluster_id, partner_id), set()).add(status)
    if found:
        conn.execute(
            sa.text("UPDATE catalog_search_holdings SET statuses = :statuses "
                    "WHERE cluster_id = :cluster_id AND partner_id = :partner_id"),
            [{"cluster_id": c, "partner_id": p, "statuses": " ".join(sorted(s))}
             for (c, p), s in found.items()])


def downgrade():
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.drop_column('holders')
    with op.batch_alter_table('catalog_search_holdings', schema=None) as batch_op:
        batch_op.drop_column('statuses')
