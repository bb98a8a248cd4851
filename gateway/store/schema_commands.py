"""Migrations of the commands domain: SMS commands: product catalogue, orders and their lines, the bonus ledger, polls and their answers, auto-reply log.

Append functions; never edit one that has been applied. Use `run_script` for DDL.
"""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (migration functions take the database)
from sqlite_utils.migrations import Migrations

from gateway.store.schema import run_script  # noqa: F401

MIGRATIONS = Migrations("smsgw-commands")
