"""Acceptance: Debian's gammu, a real and independent AT client, works against every personality.

Each personality gets its own simulated modem. gammu spends about 3.4 s of fixed sleeps probing a
device, so the personalities run concurrently: one literal `gammu identify`, then one `gammu batch`
with sendsms (short Unicode and a 400-character Cyrillic `-len 400`), getallsms, geteachsms,
deleteallsms 1 and a final getallsms. The assertions then run per personality.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import need_tool
from gateway.simulator import Network, ReceivedMessage, StoredMessage

PROFILES = ["generic", "sim800", "huawei-e173", "quectel-ec25", "simcom-sim7600", "huawei-e3372", "zte-mf190"]
PHONE = "+79161234567"
SENDER = "+79160000001"
SHORT = "Привет, мир! Заказ №42 готов."
LONG = ("Съешь же ещё этих мягких французских булок, да выпей чаю. " * 8)[:400]
MO_TEXT = "Добрый день! Напоминаем, что завтра в 09:30 у вас запись к врачу в клинике на ул. Ленина, 15, кабинет 204. Если не сможете прийти, ответьте ОТМЕНА."


@dataclass
class Session:
    """What one personality's gammu run produced."""

    imei: str
    stored_before: list[StoredMessage]
    stored_after: list[StoredMessage]
    identify: subprocess.CompletedProcess[str]
    batch: subprocess.CompletedProcess[str]
    sections: dict[str, str]
    inbox: list[ReceivedMessage]


def _run(network: Network, profile: str, workdir: Path) -> Session:
    modem = network.add_modem(profile=profile)
    modem.wait_booted()
    network.phone(SENDER).send(to=modem.msisdn, text=MO_TEXT)
    stored_before = modem.wait_stored(3)
    rc = workdir / f"{profile}.gammurc"
    rc.write_text(f"[gammu]\ndevice = {modem.path}\nconnection = at\n", encoding="utf-8")
    identify = subprocess.run(["gammu", "-c", str(rc), "identify"], capture_output=True, text=True, timeout=60)
    batch_file = workdir / f"{profile}.batch"
    batch_file.write_text(
        "\n".join(
            [
                f'sendsms TEXT {PHONE} -unicode -text "{SHORT}"',
                f'sendsms TEXT {PHONE} -unicode -len 400 -text "{LONG}"',
                "getallsms",
                "geteachsms",
                "deleteallsms 1",
                "getallsms",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    batch = subprocess.run(["gammu", "-c", str(rc), "batch", str(batch_file)], capture_output=True, text=True, timeout=90)
    chunks = re.split(r"Executing batch \".*?\" - command (\d+): ", batch.stdout)
    sections = {f"{chunks[i]}": chunks[i + 1] for i in range(1, len(chunks) - 1, 2)}
    inbox = network.phone(PHONE).inbox
    return Session(modem.imei, stored_before, modem.stored(), identify, batch, sections, [m for m in inbox if m.from_ == modem.msisdn])


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Session]]:
    need_tool("gammu", "the simulator's acceptance test drives it with Debian's gammu")
    workdir = tmp_path_factory.mktemp("gammu")
    wire = logging.getLogger("gateway.simulator.wire")
    with Network() as network, ThreadPoolExecutor(len(PROFILES)) as pool:
        handler = logging.FileHandler(workdir / "wire.log")
        wire.addHandler(handler)
        try:
            futures = {p: pool.submit(_run, network, p, workdir) for p in PROFILES}
            yield {p: f.result() for p, f in futures.items()}
        finally:
            wire.removeHandler(handler)
            handler.close()


def _check(session: Session) -> None:
    assert session.identify.returncode == 0, session.identify.stdout + session.identify.stderr
    assert session.batch.returncode == 0, session.batch.stdout[-2000:] + session.batch.stderr


@pytest.mark.parametrize("profile", PROFILES)
def test_identify_prints_the_simulated_imei(sessions: dict[str, Session], profile: str) -> None:
    session = sessions[profile]
    _check(session)
    assert re.search(rf"^IMEI\s+: {session.imei}$", session.identify.stdout, re.M), session.identify.stdout


@pytest.mark.parametrize("profile", PROFILES)
def test_sendsms_unicode_and_400_char_cyrillic_arrive_whole(sessions: dict[str, Session], profile: str) -> None:
    session = sessions[profile]
    _check(session)
    received = {(m.text, m.parts, m.encoding) for m in session.inbox}
    assert (SHORT, 1, "ucs2") in received
    assert (LONG, 6, "ucs2") in received  # 400 UCS-2 characters need 6 parts of at most 67


@pytest.mark.parametrize("profile", PROFILES)
def test_mo_multipart_cyrillic_shows_up_in_getallsms_and_joined(sessions: dict[str, Session], profile: str) -> None:
    session = sessions[profile]
    _check(session)
    assert [s.concat.seq for s in session.stored_before if s.concat] == [1, 2, 3]
    listing = session.sections["3"]
    assert len(re.findall(r"Concatenated \(linked\) message, ID \(8 bit\) \d+, part \d of 3", listing)) == 3
    assert "".join(s.text for s in session.stored_before) == MO_TEXT
    joined = session.sections["4"]
    assert MO_TEXT in joined and "3 SMS parts in 1 SMS sequences" in joined


@pytest.mark.parametrize("profile", PROFILES)
def test_deleteallsms_empties_the_store(sessions: dict[str, Session], profile: str) -> None:
    session = sessions[profile]
    _check(session)
    assert session.stored_after == []
    assert "Location" not in session.sections["6"]
