"""`smsgw send` queues what a person types; `smsgw status` shows the modem, its day count against the cap, the queue."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import cli, store
from gateway.store import outbox as q
from tests.harness import Gateway, Network, make_config


def _config_file(tmp_path: Path, port: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        f'[database]\npath = "{tmp_path / "gateway.db"}"\n[sending]\nrequire_clock_sync = false\n'
        f'[[modems]]\nname = "office-sim"\nport = "{port}"\nper_day = 250\n', encoding="utf-8")
    return path


def test_send_then_status_through_a_running_gateway(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Network() as net:
        sim = net.add_modem("huawei-e173")
        config_file = _config_file(tmp_path, sim.path)
        assert cli.main(["--config", str(config_file), "send", "8 (916) 123-45-67", "Ваш заказ готов"]) == 0
        assert "queued message 1" in capsys.readouterr().out
        db = store.connect(tmp_path / "gateway.db")
        row = q.get(db, 1)
        assert row["phone"] == "+79161234567" and row["priority"] == 0 and row["class"] == "service"
        config = make_config(tmp_path, [sim.path], modem={"name": "office-sim", "per_day": 250})
        with Gateway(config) as gw:
            assert [m.text for m in net.phone("+79161234567").wait_inbox(1, 30)] == ["Ваш заказ готов"]
            gw.wait_sent(1)
        assert cli.main(["--config", str(config_file), "status"]) == 0
        out = capsys.readouterr().out
    assert "office-sim: offline" in out and "last error: gateway stopped" in out and sim.imei in out
    assert "sent today 1 of 250" in out
    assert "dBm" in out and "MTS" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["send", "12345", "hi"], "12345"),
    (["send", "+79161234567", "   "], "empty"),
    (["send", "+79161234567", "x", "--priority", "urgent"], "invalid choice"),
])
def test_send_refuses_bad_input_clearly(tmp_path: Path, argv: list[str], message: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    config_file = _config_file(tmp_path, "/dev/null")
    assert cli.main(["--config", str(config_file), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    db = store.connect(tmp_path / "gateway.db")
    assert q.counts(db)["queued"] == 0
