"""`smsgw demo` starts the gateway on simulated modems with sample data, serves /health, and stops cleanly."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from gateway import config as configuration
from gateway import demo, jobs, segments, store, templates
from gateway.store import campaigns as cstore
from gateway.store import users
from tests.conftest import ROOT
from tests.harness import wait_until

pytestmark = pytest.mark.timeout(120)


def test_demo_runs_sends_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "demo", "--port", "0", "--sim-control", "127.0.0.1:0",
         "--data-dir", str(tmp_path / "demo")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "(Ctrl+C stops the demo)" in line:
                break
        text = "".join(lines)
        url = re.search(r"running: (http://\S+/)", text)
        control = re.search(r"control API: (http://\S+)", text)
        assert url and control, text
        assert "login: demo / " in text
        # the simulator's phones can talk to the gateway's modems
        modems = json.load(urllib.request.urlopen(control.group(1) + "/modems", timeout=10))
        assert len(modems) == 2
        def healthy() -> dict | None:
            try:
                body = json.load(urllib.request.urlopen(url.group(1) + "health", timeout=10))
                return body if body["modems_online"] == 2 else None
            except urllib.error.HTTPError as exc:
                assert exc.code == 503  # not ready yet: modems still connecting
                return None

        health = wait_until(healthy, 30, "/health to report the simulated modems online")
        assert health["ok"] and health["modems_online"] == 2
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + out
    assert "Traceback" not in out
    assert (tmp_path / "demo" / "smsgw.db").exists()
    check_sample_data(tmp_path / "demo")


def check_sample_data(data_dir: Path) -> None:
    """The demo seeded its people once and the campaigns domain's samples once (one source each)."""
    config = configuration.load(data_dir / "config.toml")
    db = store.connect(config.database.path)

    def snapshot() -> dict[str, object]:
        campaigns = [c for c in cstore.list_campaigns(db) if c["automation"] is None]
        return {
            "users": sorted(u["username"] for u in users.list_users(db)),
            "contacts": db.execute("SELECT count(*) FROM contacts").fetchone()[0],
            "consents": db.execute("SELECT count(*) FROM consent_events").fetchone()[0],
            "segments": [s["name"] for s in segments.list_all(db)],
            "templates": [t["name"] for t in templates.list_all(db)],
            "drafts": [(c["name"], c["state"], bool(c["coupons"])) for c in campaigns],
            "automations": {name: jobs.automation_settings(db, name)["enabled"] for name in jobs.AUTOMATIONS},
        }

    first = snapshot()
    assert first["users"] == [demo.DEMO_AGENT, demo.DEMO_USER] and first["contacts"] == 10
    assert first["segments"] == ["Клиенты с согласием на рекламу"] and first["templates"] == ["Весенняя скидка"]
    assert first["drafts"] == [("Весенняя скидка", "draft", True)]          # one sample campaign, not two
    assert all(first["automations"].values())
    tags = [json.loads(c["tags"]) for c in db.execute("SELECT tags FROM contacts WHERE role = 'customer'")]
    assert sorted(t[0] for t in tags) == ["vip"] * 4 + ["весна"] * 4
    demo.seed(db, config, 2e9)  # a restart of the demo on the same data directory adds nothing
    assert snapshot() == first
