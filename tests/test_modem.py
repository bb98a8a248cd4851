"""The modem session against simulated modems over real ptys: init per profile, identity, health, SIM PIN, sending
with its failure modes, stored messages, unplug."""

from __future__ import annotations

import dataclasses

import pytest

from gateway import at, profiles, sms
from gateway.errors import CommandFailed, ModemGone, ModemTimeout
from gateway.modem import ModemSession, PinRefused, rssi_to_dbm
from gateway.simulator import Network

PROFILES = ["generic", "sim800", "huawei-e173", "quectel-ec25", "simcom-sim7600"]


@pytest.fixture
def net():
    with Network() as network:
        yield network


def _session(modem, pin: str | None = None) -> ModemSession:
    session = ModemSession(modem.path, profiles.load_profile(modem.profile.name), pin=pin)
    session.open()
    return session


@pytest.mark.parametrize("profile", PROFILES)
def test_init_identity_and_health_on_every_profile(net: Network, profile: str) -> None:
    modem = net.add_modem(profile)
    modem.set_faults(rssi=15)
    session = _session(modem)
    try:
        session.initialise()
        ident = session.identity()
        assert (ident.imei, ident.imsi, ident.iccid) == (modem.imei, modem.imsi, modem.iccid)
        assert ident.model == modem.profile.simulator.model
        health = session.health()
        assert health.rssi == 15 and health.dbm == -83 and health.registered
        assert health.operator == modem.profile.simulator.operator
    finally:
        session.close()


def test_rssi_to_dbm_follows_27007() -> None:
    assert [rssi_to_dbm(v) for v in (0, 1, 31, 99, None)] == [-113, -111, -51, None, None]


def test_pin_is_entered_once_and_a_wrong_or_missing_pin_stops_clearly(net: Network) -> None:
    modem = net.add_modem("quectel-ec25")
    modem.set_faults(pin="4321")
    session = _session(modem)
    with pytest.raises(PinRefused, match="set `pin`"):
        session.initialise()
    session.close()
    session = _session(modem, pin="0000")
    with pytest.raises(PinRefused, match="refused the configured PIN"):
        session.initialise()
    session.close()
    session = _session(modem, pin="4321")  # one wrong try spent, two left: the right PIN still works
    session.initialise()
    assert session.identity().imei == modem.imei
    session.close()


def _pdu(number: str, text: str) -> sms.SubmitPdu:
    return sms.encode_submit(number, text, reference=1)[0]


def test_send_returns_the_message_reference_and_the_phone_gets_it(net: Network) -> None:
    modem = net.add_modem("sim800")
    session = _session(modem)
    session.initialise()
    pdu = _pdu("+79160001122", "Привет от шлюза")
    mr = session.send_pdu(pdu.hex, pdu.tpdu_length)
    assert mr == modem.submits[-1].mr
    assert [m.text for m in net.phone("+79160001122").wait_inbox(1, 10)] == ["Привет от шлюза"]
    session.close()


def test_no_prompt_is_cancelled_with_esc_and_nothing_is_sent(net: Network) -> None:
    modem = net.add_modem("generic")
    session = _session(modem)
    session.profile = dataclasses.replace(session.profile, prompt_timeout_s=0.5)  # the test need not wait 5 s
    session.initialise()
    modem.set_faults(no_prompt=True)
    pdu = _pdu("+79160001123", "never")
    with pytest.raises(ModemTimeout, match="ESC"):
        session.send_pdu(pdu.hex, pdu.tpdu_length)
    assert modem.submits == []
    modem.set_faults(no_prompt=False)
    assert session.command("AT").final.kind == at.FinalKind.OK  # still in step with the modem
    mr = session.send_pdu(pdu.hex, pdu.tpdu_length)
    assert mr is not None and len(modem.submits) == 1
    session.close()


@pytest.mark.parametrize(("code", "klass"), [(500, at.ErrorClass.TRANSIENT), (38, at.ErrorClass.TRANSIENT),
                                             (1, at.ErrorClass.PERMANENT)])
def test_cms_errors_surface_with_their_class(net: Network, code: int, klass: at.ErrorClass) -> None:
    modem = net.add_modem("generic")
    session = _session(modem)
    session.initialise()
    modem.set_faults(cms_error_next=(code, 1))
    pdu = _pdu("+79160001124", "x")
    with pytest.raises(CommandFailed) as err:
        session.send_pdu(pdu.hex, pdu.tpdu_length)
    assert err.value.final.code == code and err.value.final.error_class == klass
    assert session.send_pdu(pdu.hex, pdu.tpdu_length) is not None
    session.close()


def test_no_network_shows_in_health_and_submits_fail_transiently(net: Network) -> None:
    modem = net.add_modem("huawei-e173")
    session = _session(modem)
    session.initialise()
    modem.set_faults(no_network=True)
    health = session.health()
    assert not health.registered and health.registration == "searching" and health.rssi is None
    pdu = _pdu("+79160001125", "x")
    with pytest.raises(CommandFailed) as err:
        session.send_pdu(pdu.hex, pdu.tpdu_length)
    assert err.value.final.code == 331 and err.value.final.error_class == at.ErrorClass.TRANSIENT
    session.close()


def test_garbage_and_a_urc_inside_a_reply_do_not_confuse_the_answer(net: Network) -> None:
    modem = net.add_modem("generic")
    session = _session(modem)
    session.initialise()
    modem.set_faults(garbage=b"\xff\xfe\x00junk\x81")
    assert session.identity().imei == modem.imei
    modem.set_faults(urc_inside_reply='+CMTI: "SM",7')
    response = session.command("AT+CSQ")
    assert response.lines and response.lines[0].startswith("+CSQ:")
    assert [u.name for u in session.poll_urcs()] == ["+CMTI"]
    session.close()


@pytest.mark.parametrize("profile", ["generic", "huawei-e173"])
def test_stored_messages_list_read_delete_with_the_profile_index_base(net: Network, profile: str) -> None:
    modem = net.add_modem(profile)
    session = _session(modem)
    session.initialise()
    net.phone("+79161112233").send(to=modem.msisdn, text="первое")
    net.phone("+79161112233").send(to=modem.msisdn, text="second")
    modem.wait_stored(2)
    stored = session.list_messages()
    assert sorted(s.index for s in stored) == [modem.profile.index_base, modem.profile.index_base + 1]
    texts = sorted(sms.decode(s.pdu).text for s in stored)
    assert texts == sorted(["первое", "second"])
    one = session.read_message(stored[0].index)
    assert one is not None and one.pdu == stored[0].pdu
    for s in stored:
        session.delete_message(s.index)
    assert session.list_messages() == []
    assert session.read_message(stored[0].index) is None
    session.close()


def test_unplug_turns_into_modem_gone(net: Network) -> None:
    modem = net.add_modem("generic")
    session = _session(modem)
    session.initialise()
    modem.unplug()
    with pytest.raises(ModemGone):
        session.command("AT", timeout=2)
    assert not session.is_open
