"""source_records.harvest_identifier; incremental harvests on catalog_harvest_sources

Harvesting only what changed since the last harvest (OAI-PMH ``from``).
The deletions such a harvest lists name records by their identifier in the
repository, which each harvested record now keeps
(source_records.harvest_identifier, indexed per partner where there is
one). A source says whether it is harvested so (incremental), how often a
full harvest is made all the same (full_every_days) and what the
repository said of deleted records when last asked (deleted_record).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 05:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('source_records', sa.Column('harvest_identifier', sa.String(length=500), nullable=True))
    op.create_index('ix_source_records_harvest_identifier', 'source_records',
                    ['partner_id', 'harvest_identifier'], unique=False,
                    sqlite_where=sa.text('harvest_identifier IS NOT NULL'),
                    postgresql_where=sa.text('harvest_identifier IS NOT NULL'))
    op.add_column('catalog_harvest_sources', sa.Column('incremental', sa.Boolean(), nullable=False,
                                                       server_default=sa.false()))
    op.add_column('catalog_harvest_sources', sa.Column('full_every_days', sa.Integer(), nullable=False,
                                                       server_default='30'))
    op.add_column('catalog_harvest_sources', sa.Column('deleted_record', sa.String(length=20), nullable=False,
                                                       server_default=''))


def downgrade():
    # not batch mode: on SQLite it would copy source_records, which much refers to
    op.execute("ALTER TABLE catalog_harvest_sources DROP COLUMN deleted_record")
    op.execute("ALTER TABLE catalog_harvest_sources DROP COLUMN full_every_days")
    op.execute("ALTER TABLE catalog_harvest_sources DROP COLUMN incremental")
    op.drop_index('ix_source_records_harvest_identifier', table_name='source_records')
    op.execute("ALTER TABLE source_records DROP COLUMN harvest_identifier")
