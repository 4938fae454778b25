"""catalog_search_docs.title_sort and author_sort: what a sort by title or
by author orders by

A search may be sorted by title or author (``sort=title``, ``sort=author``).
A union record files under its title without the non-filing characters its
records say (MARC 245's second indicator) or, where they say nothing,
without a leading article: "al-Qurʼan dan tafsirnya" under "quran dan
tafsirnya", as cataloguing rules file Arabic titles; and under its main
entry without a hyphened Arabic article ("al-Ghazali, Abu Hamid" under
"ghazali abu hamid"). Filled here as a reindex writes them, by the same
rules: ``union_catalog.searchtext.sort_title``, ``filing_keys`` and
``sort_author``, pure functions of the union record's title and author and
its records' filing forms.

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
    from union_catalog.searchtext import filing_keys, sort_author, sort_title

    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        # compared byte by byte, whatever the database's collation (see SearchDoc.title_sort)
        filing = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
        batch_op.add_column(sa.Column('title_sort', filing, nullable=False, server_default=''))
        batch_op.add_column(sa.Column('author_sort', filing, nullable=False, server_default=''))
    conn = op.get_bind()
    described = {cid: (title, author) for cid, title, author in conn.execute(sa.text(
        "SELECT c.id, c.title, c.author FROM clusters c JOIN catalog_search_docs d ON d.cluster_id = c.id"))}
    facts: dict[int, list[dict]] = {}
    for cluster_id, data in conn.execute(sa.text(
            "SELECT cluster_id, match_data FROM source_records "
            "WHERE withdrawn_at IS NULL AND cluster_id IS NOT NULL ORDER BY cluster_id, id")):
        if cluster_id in described:
            facts.setdefault(cluster_id, []).append(
                (json.loads(data) if isinstance(data, str | bytes) else data) or {})
    rows = [{"cluster_id": cid, "title_sort": sort_title(title, filing_keys(facts.get(cid, []))),
             "author_sort": sort_author(author)}
            for cid, (title, author) in described.items()]
    if rows:
        conn.execute(sa.text("UPDATE catalog_search_docs SET title_sort = :title_sort, "
                             "author_sort = :author_sort WHERE cluster_id = :cluster_id"), rows)


def downgrade():
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.drop_column('author_sort')
        batch_op.drop_column('title_sort')
