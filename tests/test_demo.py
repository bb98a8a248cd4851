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
