"""Migrations of the web domain: web sessions, API keys, webhooks and their deliveries.

Append functions; never edit one that has been applied. Use `run_script` for DDL.
"""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (migration functions take the database)
from sqlite_utils.migrations import Migrations

from gateway.store.schema import run_script  # noqa: F401

MIGRATIONS = Migrations("smsgw-web")
