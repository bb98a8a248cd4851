"""Logging: the documented format, no SMS bodies at INFO, the wire log only when asked for."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from gateway import logs, outbox
from tests.harness import Gateway, Network, make_config, wait_until

SECRET = "Секретный код 4711 для Ольги"


def _exchange(tmp_path: Path) -> None:
    with Network() as net:
        sim = net.add_modem("generic")
        config = make_config(tmp_path, [sim.path])
        with Gateway(config) as gw:
            outbox.submit(gw.db, config, "+79161239876", SECRET, now=gw.supervisor.wiring.clock())
            gw.supervisor.poke()
            net.phone("+79161239876").wait_inbox(1, 30)
            net.phone("+79161239876").send(to=sim.msisdn, text=SECRET + " ответ")
            gw.wait_counts(delivered=1)
            wait_until(lambda: gw.db.execute("SELECT count(*) FROM inbox").fetchone()[0] == 1, 30, "the reply stored")


def test_no_message_text_in_info_logs_and_no_wire_log_by_default(tmp_path: Path,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    logs.setup("INFO")
    caplog.set_level(logging.INFO)
    _exchange(tmp_path)
    gateway_records = [r for r in caplog.records if r.name.startswith("gateway.") and
                       not r.name.startswith("gateway.simulator")]
    assert any("sent via" in r.getMessage() for r in gateway_records)
    assert any("inbound message" in r.getMessage() for r in gateway_records)
    assert not [r for r in gateway_records if "4711" in r.getMessage() or "Ольги" in r.getMessage()]
    assert not [r for r in caplog.records if r.name == "gateway.wire"]


def test_wire_log_shows_the_at_traffic_when_enabled(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    logs.setup("INFO", wire=True)
    caplog.set_level(logging.DEBUG, logger="gateway.wire")
    try:
        _exchange(tmp_path)
    finally:
        logs.setup("INFO")
    wire = [r.getMessage() for r in caplog.records if r.name == "gateway.wire"]
    assert any("AT+CMGS=" in line for line in wire) and any("+CMGS:" in line for line in wire)


def test_format_is_level_name_message(capsys: pytest.CaptureFixture[str]) -> None:
    logs.setup("INFO")
    logging.getLogger("gateway.example").warning("modem %s gone", "sim1")
    assert "WARNING gateway.example: modem sim1 gone" in capsys.readouterr().err
