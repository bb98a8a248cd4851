"""Crash safety: `kill -9` of the real daemon process at random moments while it sends, restarting each time.

Acceptance (issue 4): 0 messages lost; every phone has each message once, except messages the gateway itself
reports `uncertain` — and those are at most one per crash per modem.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gateway import outbox, store
from gateway.states import OutState
from gateway.store import outbox as q
from tests.harness import Network, make_config, wait_until

pytestmark = pytest.mark.timeout(400)
MESSAGES = 2000
KILLS = 20


def _write_config(path: Path, db: Path, ports: list[str]) -> None:
    modems = "".join(f'[[modems]]\nport = "{p}"\nper_minute = 60000\nper_hour = 3600000\nper_day = 100000000\n'
                     for p in ports)
    path.write_text(
        f'[database]\npath = "{db}"\n[web]\nbind = "127.0.0.1"\nport = 0\n'
        f'[sending]\nrequire_clock_sync = false\n[logging]\nlevel = "WARNING"\n{modems}', encoding="utf-8")


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "gateway.cli", "--config", str(config), "run"],
                                stdout=out, stderr=out, cwd=Path(__file__).resolve().parent.parent)


def _progress(db: store.Database) -> int:
    c = q.counts(db)
    return c["sent"] + c["delivered"] + c["undelivered"] + c["uncertain"] + c["failed"]


def test_kill_9_at_random_moments_loses_nothing_and_duplicates_only_what_it_reports(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("CRASH_SEED", "20261123")))
    with Network() as net:
        sims = [net.add_modem("generic"), net.add_modem("quectel-ec25")]
        config_path = tmp_path / "config.toml"
        db_path = tmp_path / "gateway.db"
        _write_config(config_path, db_path, [s.path for s in sims])
        config = make_config(tmp_path, [s.path for s in sims])
        db = store.connect(db_path)
        numbers = [f"+7916{7000000 + i:07d}" for i in range(MESSAGES)]
        with store.immediate(db):
            ids = [outbox.submit(db, config, n, f"crash test {i}" + (" длинный текст" * 6 if i % 4 == 0 else ""),
                                 now=0.0) for i, n in enumerate(numbers)]
        texts = {n: q.get(db, i)["body"] for n, i in zip(numbers, ids)}
        log = tmp_path / "daemon.log"
        kills = 0
        for _ in range(KILLS):
            proc = _start(config_path, log)
            target = min(MESSAGES, _progress(db) + rng.randint(0, 120))
            try:
                wait_until(lambda: _progress(db) >= target or proc.poll() is not None, 60, "progress before kill")
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            assert proc.returncode == -signal.SIGKILL, log.read_text(errors="replace")[-2000:]
            kills += 1
        proc = _start(config_path, log)
        try:
            wait_until(lambda: _progress(db) == MESSAGES, 240, "every message sent or reported uncertain")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        assert proc.returncode == 0, log.read_text(errors="replace")[-2000:]
        # Messages still in flight at the last kill became uncertain at the final start-up; nothing is queued.
        states = {i: q.get(db, i)["state"] for i in ids}
        assert not [i for i, s in states.items() if s in (OutState.QUEUED, OutState.SENDING)]
        uncertain = {n for n, i in zip(numbers, ids) if states[i] == OutState.UNCERTAIN}
        print(f"kills={kills} uncertain={len(uncertain)}")
        assert len(uncertain) <= kills * len(sims)
        for number in numbers:
            got = [m.text for m in net.phone(number).inbox]
            if number in uncertain:
                assert got in ([], [texts[number]]), (number, got)
            else:
                assert got == [texts[number]], (number, got, states[ids[numbers.index(number)]])
        assert "Traceback" not in log.read_text(errors="replace")
