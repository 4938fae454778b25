"""catalog_search_docs.work_key: the work a union record is an edition of

A union record's page lists the other editions (and volumes) of its work:
the union records whose records name the same title proper and first
author (``union_catalog.matching.work_key``), whatever their edition, year
and publisher. Kept in the search index, indexed, and filled here as a
reindex writes it (``matching.common_work_key``, a pure function of the
records' facts).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 00:45:00

"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    from union_catalog.matching import common_work_key

    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('work_key', sa.Text(), nullable=False, server_default=''))
        batch_op.create_index('ix_catalog_search_docs_work_key', ['work_key'], unique=False)
    conn = op.get_bind()
    facts: dict[int, list[dict]] = {}
    for cluster_id, data in conn.execute(sa.text(
            "SELECT r.cluster_id, r.match_data FROM source_records r "
            "JOIN catalog_search_docs d ON d.cluster_id = r.cluster_id "
            "WHERE r.withdrawn_at IS NULL ORDER BY r.cluster_id, r.id")):
        facts.setdefault(cluster_id, []).append(
            (json.loads(data) if isinstance(data, str | bytes) else data) or {})
    rows = [{"cluster_id": cid, "work_key": key} for cid, found in facts.items()
            if (key := common_work_key(found))]
    if rows:
        conn.execute(sa.text("UPDATE catalog_search_docs SET work_key = :work_key "
                             "WHERE cluster_id = :cluster_id"), rows)


def downgrade():
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.drop_index('ix_catalog_search_docs_work_key')
        batch_op.drop_column('work_key')
