"""catalog_search_headings: the author and subject headings to browse

The catalogue's names and subjects are browsed in filing order, each with
the union records under it (``union_catalog.headings``). A reindex writes a
union record's headings with its words; here every record's facts gain the
name headings describe() now keeps (``names``, read from its MARC), and the
table is filled as a reindex fills it (``headings.of_members``, a pure
function of the records' names and subjects in the order of their ids),
with each search document's ``headings_digest`` (``headings.digest``), by
which a reindex tells that a union record's headings changed.

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-07 23:00:00

"""
import json

import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None

CHUNK = 2000


def _json(value):
    return (json.loads(value) if isinstance(value, str | bytes) else value) or {}


def upgrade():
    from union_catalog.headings import digest, of_members, of_record

    filing = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
    op.create_table(
        'catalog_search_headings',
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('filing', filing, nullable=False),
        sa.Column('cluster_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('heading', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('kind', 'filing', 'cluster_id', name=op.f('pk_catalog_search_headings')),
    )
    with op.batch_alter_table('catalog_search_headings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_catalog_search_headings_cluster_id'), ['cluster_id'], unique=False)

    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('headings_digest', sa.BigInteger(), nullable=True))
    conn = op.get_bind()
    update = sa.text("UPDATE source_records SET match_data = :data WHERE id = :id").bindparams(
        sa.bindparam("data", type_=sa.JSON))
    indexed = {cid for (cid,) in conn.execute(sa.text("SELECT cluster_id FROM catalog_search_docs"))}
    ids = [rid for (rid,) in conn.execute(sa.text(
        "SELECT id FROM source_records WHERE withdrawn_at IS NULL ORDER BY id"))]
    found: dict[int, tuple[list, list]] = {}  # cluster id -> (names, subjects), its records in id order
    for at in range(0, len(ids), CHUNK):
        chunk = ids[at:at + CHUNK]
        rows = conn.execute(sa.text(
            "SELECT id, cluster_id, match_data, marc FROM source_records WHERE id BETWEEN :low AND :high "
            "AND withdrawn_at IS NULL ORDER BY id"), {"low": chunk[0], "high": chunk[-1]}).all()
        described = []
        for rid, cluster_id, data, marc in rows:
            data = _json(data)
            given = of_record(data, lambda marc=marc: _json(marc))
            if "names" not in data:
                data["names"] = given[0]
                described.append({"id": rid, "data": data})
            if cluster_id in indexed:
                names, subjects = found.setdefault(cluster_id, ([], []))
                names += given[0]
                subjects += given[1]
        if described:
            conn.execute(update, described)
    rows, digests = [], []
    for cid, (names, subjects) in found.items():
        names, subjects = list(dict.fromkeys(names)), list(dict.fromkeys(subjects))
        rows += [{"kind": kind, "filing": key, "cluster_id": cid, "heading": heading}
                 for kind, key, heading in of_members(names, subjects)]
        digests.append({"cluster_id": cid, "digest": digest(names, subjects)})
    if rows:
        conn.execute(sa.text("INSERT INTO catalog_search_headings (kind, filing, cluster_id, heading) "
                             "VALUES (:kind, :filing, :cluster_id, :heading)"), rows)
    if digests:
        conn.execute(sa.text("UPDATE catalog_search_docs SET headings_digest = :digest "
                             "WHERE cluster_id = :cluster_id"), digests)


def downgrade():
    with op.batch_alter_table('catalog_search_docs', schema=None) as batch_op:
        batch_op.drop_column('headings_digest')
    with op.batch_alter_table('catalog_search_headings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_catalog_search_headings_cluster_id'))
    op.drop_table('catalog_search_headings')
    # the records' facts keep their names: describe() gives them, and nothing before reads them
