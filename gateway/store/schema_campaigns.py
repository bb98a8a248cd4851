"""Migrations of the campaigns domain: contacts' extras, segments, templates, coupons, campaigns and their statistics.

Append functions; never edit one that has been applied. Use `run_script` for DDL.
"""

from __future__ import annotations

from sqlite_utils import Database  # noqa: F401  (migration functions take the database)
from sqlite_utils.migrations import Migrations

from gateway.store.schema import run_script  # noqa: F401

MIGRATIONS = Migrations("smsgw-campaigns")
