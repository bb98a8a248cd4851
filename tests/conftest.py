"""Shared fixtures: paths, a config file in tmp_path, an in-file database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
IN_CI = os.environ.get("CI") == "true"


def need_tool(name: str, reason: str) -> None:
    """Skip locally when a Debian tool is absent, but fail under CI (where .ci/run installs it)."""
    import shutil

    if shutil.which(name) is None:
        if IN_CI:
            pytest.fail(f"{name} is required under CI: {reason}")
        pytest.skip(f"{name} not installed: {reason}")


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A minimal valid config whose database lives in tmp_path."""
    path = tmp_path / "config.toml"
    path.write_text(f'[database]\npath = "{tmp_path / "smsgw.db"}"\n', encoding="utf-8")
    return path
