"""The `smsgw` command: every subcommand has --help; user add, backup and status work on a real database."""

from __future__ import annotations

import argparse
import io
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import auth, cli, store
from gateway.store import users


def _all_subcommands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found.append(prefix + (name,))
                found.extend(_all_subcommands(sub, prefix + (name,)))
    return found


SUBCOMMANDS = _all_subcommands(cli.build_parser())


def test_the_documented_subcommands_exist() -> None:
    top = {c[0] for c in SUBCOMMANDS}
    assert {"run", "demo", "simulate", "send", "status", "backup", "user", "import", "export"} <= top
    assert ("user", "add") in SUBCOMMANDS


@pytest.mark.parametrize("command", SUBCOMMANDS, ids=[" ".join(c) for c in SUBCOMMANDS])
def test_every_subcommand_has_help(command: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main([*command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: smsgw " + " ".join(command))
    assert len(out.splitlines()) > 2


def test_console_script_runs_outside_the_test_process() -> None:
    result = subprocess.run([sys.executable, "-m", "gateway.cli", "--version"], capture_output=True, text=True,
                            timeout=30)
    assert result.returncode == 0 and result.stdout.startswith("smsgw ")


def test_unknown_subcommand_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["frobnicate"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_user_add_hashes_the_password_and_audits(config_file: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("correct horse battery\n"))
    assert cli.main(["--config", str(config_file), "user", "add", "Olga", "--password-stdin"]) == 0
    db = store.connect(config_file.parent / "smsgw.db")
    user = users.get_user(db, "olga")
    assert user and user["role"] == "admin"
    assert "correct horse" not in user["password_hash"]
    assert auth.verify_password("correct horse battery", user["password_hash"])
    assert not auth.verify_password("correct horse batterY", user["password_hash"])
    assert [e["action"] for e in users.audit_entries(db)] == ["user.add"]

    monkeypatch.setattr(sys, "stdin", io.StringIO("another long password\n"))
    assert cli.main(["--config", str(config_file), "user", "add", "OLGA", "--password-stdin"]) == 2
    assert "already exists" in capsys.readouterr().err


def test_user_add_refuses_a_short_password(config_file: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert cli.main(["--config", str(config_file), "user", "add", "ivan", "--password-stdin"]) == 2
    assert "at least 10 characters" in capsys.readouterr().err


def test_backup_and_status(config_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = store.connect(tmp_path / "smsgw.db")
    users.audit(db, "test", "x", 1.0)
    target = tmp_path / "backup.db"
    assert cli.main(["--config", str(config_file), "backup", str(target)]) == 0
    assert sqlite3.connect(target).execute("SELECT action FROM audit_log").fetchall() == [("x",)]
    assert cli.main(["--config", str(config_file), "backup", str(target)]) == 2
    assert "--force" in capsys.readouterr().err
    assert cli.main(["--config", str(config_file), "status"]) == 0
    out = capsys.readouterr().out
    assert "Modems:" in out and "queued 0" in out


def test_password_hashes_meet_the_project_floor() -> None:
    _scheme, n, r, p, _salt, _digest = auth.hash_password("a long enough pass").split("$")
    assert int(n) >= 2**15 and int(r) == 8 and int(p) >= 1  # reliability-security.md S1
