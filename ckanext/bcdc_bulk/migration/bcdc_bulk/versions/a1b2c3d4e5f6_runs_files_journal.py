"""The runs of the web extension, their files and their apply journals, in CKAN's database.

Revision ID: a1b2c3d4e5f6
Revises:
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op

revision = "a1b2c3d4e5f6"
down_revision = None
branch_labels = None
depends_on = None
ACTIVE = ("queued", "applying")


def upgrade() -> None:
    """Three tables: runs (one row per upload, inventory or export), files, journal lines."""
    op.create_table(
        "bcdc_bulk_run",
        sa.Column("id", sa.Text, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("org_id", sa.Text, nullable=False),
        sa.Column("org_name", sa.Text, nullable=False),
        sa.Column("user_name", sa.Text, nullable=False),
        sa.Column("filename", sa.Text, nullable=False),
        sa.Column("uploaded_at", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("heartbeat", sa.Float, nullable=False, server_default="0"),
        sa.Column("files_purged", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_index("bcdc_bulk_run_history", "bcdc_bulk_run", ["org_id", "kind", "created"])
    # one apply per organization: the database refuses a second active one, whichever process asks
    op.create_index("bcdc_bulk_run_one_apply", "bcdc_bulk_run", ["org_id"], unique=True,
                    postgresql_where=sa.text("state IN ('queued', 'applying')"))
    op.create_table(
        "bcdc_bulk_file",
        sa.Column("run_id", sa.Text, primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("content", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
    )
    op.create_table(
        "bcdc_bulk_journal",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Text, nullable=False),
        sa.Column("line", sa.Text, nullable=False),
    )
    op.create_index("ix_bcdc_bulk_journal_run_id", "bcdc_bulk_journal", ["run_id"])


def downgrade() -> None:
    """The tables removed (the runs' history with them)."""
    op.drop_table("bcdc_bulk_journal")
    op.drop_table("bcdc_bulk_file")
    op.drop_index("bcdc_bulk_run_one_apply", table_name="bcdc_bulk_run")
    op.drop_index("bcdc_bulk_run_history", table_name="bcdc_bulk_run")
    op.drop_table("bcdc_bulk_run")
