"""catalog_search_docs.title_sort: what a sort by title orders by

A search may be sorted by title (``sort=title``). A union record files
under its title without the non-filing characters its records say (MARC
245's second indicator) or, where they say nothing, without a leading
article: "al-Qurʼan dan tafsirnya" under "quran dan tafsirnya", as
cataloguing rules file Arabic titles. Filled here as a reindex writes it,
by the same rule: ``union_catalog.searchtext.sort_title`` and
``filing_keys``, pure functions of the union record's title and its
records' filing forms.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:20:00

"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    from union_catalog.searchtext import filing_keys, sort_title

    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('title_sort', sa.Text(), nullable=False, server_default=''))
    conn = op.get_bind()
    titles = dict(conn.execute(sa.text(
        "SELECT c.id, c.title FROM clusters c JOIN catalog_search_docs d ON d.cluster_id = c.id")).all())
    facts: dict[int, list[dict]] = {}
    for cluster_id, data in conn.execute(sa.text(
            "SELECT cluster_id, match_data FROM source_records "
            "WHERE withdrawn_at IS NULL AND cluster_id IS NOT NULL ORDER BY cluster_id, id")):
        if cluster_id in titles:
            facts.setdefault(cluster_id, []).append(
                (json.loads(data) if isinstance(data, str | bytes) else data) or {})
    rows = [{"cluster_id": cid, "title_sort": sort_title(title, filing_keys(facts.get(cid, [])))}
            for cid, title in titles.items()]
    if rows:
        conn.execute(sa.text("UPDATE catalog_search_docs SET title_sort = :title_sort "
                             "WHERE cluster_id = :cluster_id"), rows)


def downgrade():
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.drop_column('title_sort')
