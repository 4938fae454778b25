"""catalog_search_holdings.statuses: the statuses of each library's copies

A page of search results says, per library, whether a signed-in patron's
library may ask it for a loan or a copy; that turns on which statuses the
library's copies have (any on the shelf, all on loan, reference only...).
The index keeps them beside the counts, so that a page is judged without
reading every record and item of its twenty union records. Filled here
from the items, as a reindex would.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 18:40:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('catalog_search_holdings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statuses', sa.String(length=64), nullable=False,
                                      server_default=''))
    conn = op.get_bind()
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
    with op.batch_alter_table('catalog_search_holdings', schema=None) as batch_op:
        batch_op.drop_column('statuses')
