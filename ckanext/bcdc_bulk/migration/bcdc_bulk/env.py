"""Alembic's environment for the bcdc_bulk tables: CKAN hands it the database URL, and the version
is kept in a table of its own (bcdc_bulk_alembic_version), apart from CKAN's."""
from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import engine_from_config, pool

from bcdc_bulk.web.runs import metadata

config = context.config
if config.config_file_name:
    fileConfig(config.config_file_name)
NAME = os.path.basename(os.path.dirname(__file__))
VERSION_TABLE = f"{NAME}_alembic_version"


def _ours(obj, name, type_, reflected, compare_to) -> bool:  # noqa: ANN001 (alembic's hook)
    return type_ != "table" or name.startswith(NAME)


def offline() -> None:
    """Write the SQL instead of running it."""
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=metadata, literal_binds=True,
                      version_table=VERSION_TABLE, include_object=_ours)
    with context.begin_transaction():
        context.run_migrations()


def online() -> None:
    """Run the migrations against the database."""
    engine = engine_from_config(config.get_section(config.config_ini_section), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE,
                          include_object=_ours)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    offline()
else:
    online()
