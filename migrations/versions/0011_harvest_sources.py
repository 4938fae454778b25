"""catalog_harvest_sources; import_runs.harvest, allow_withdrawals, check_only

Harvesting over OAI-PMH, a guard against mass withdrawals, and checking an
export before importing it.

A partner's catalogue can be harvested from its system's OAI-PMH
repository instead of sent as an export: where (base URL, metadata prefix,
set) and how often live in catalog_harvest_sources, one row per partner.
An import run made by a harvest keeps what it harvested in
import_runs.harvest. An import that would withdraw a large part of a
partner's records stops unless its run allows it
(import_runs.allow_withdrawals). A run with import_runs.check_only works
out what the import would do, reports it and rolls it back.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('catalog_harvest_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('partner_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('metadata_prefix', sa.String(length=100), nullable=False),
    sa.Column('set_spec', sa.String(length=200), nullable=False),
    sa.Column('every_days', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=254), nullable=False),
    sa.ForeignKeyConstraint(['partner_id'], ['partners.id'], name=op.f('fk_catalog_harvest_sources_partner_id_partners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_catalog_harvest_sources')),
    sa.UniqueConstraint('partner_id', name=op.f('uq_catalog_harvest_sources_partner_id'))
    )
    op.add_column('import_runs', sa.Column('harvest', sa.JSON(), nullable=True))
    op.add_column('import_runs', sa.Column('allow_withdrawals', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))
    op.add_column('import_runs', sa.Column('check_only', sa.Boolean(), nullable=False,
                                           server_default=sa.false()))


def downgrade():
    # not batch mode: on SQLite it would copy import_runs, which records refer to
    op.execute("ALTER TABLE import_runs DROP COLUMN check_only")
    op.execute("ALTER TABLE import_runs DROP COLUMN allow_withdrawals")
    op.execute("ALTER TABLE import_runs DROP COLUMN harvest")
    op.drop_table('catalog_harvest_sources')
