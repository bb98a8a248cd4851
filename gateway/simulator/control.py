"""A small JSON HTTP control API for the simulator on loopback (used by tests, `smsgw demo`, humans).

Routes:
  GET  /modems                       each modem: index, msisdn, imei, imsi, iccid, profile, path, link, plugged
  GET  /modems/<n>                   one modem plus its faults, stored messages and submits
  GET  /phones                       numbers of the phones that exist
  GET  /phones/<msisdn>/inbox        messages: from, to, text, parts, encoding, received_at
  POST /phones/<msisdn>/send         {"to", "text"} or {"to", "pdu"} (TPDU hex) -> {"parts": n}
  POST /modems/<n>/faults            knobs as in `Faults` -> the new faults
  POST /modems/<n>/unplug            -> the modem
  POST /modems/<n>/replug            -> the modem with its new path
"""

from __future__ import annotations

import json
import logging
import threading
import urllib.parse
from dataclasses import asdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gateway.simulator.modem import Faults, SimModem
from gateway.simulator.network import Network

log = logging.getLogger("gateway.simulator.control")


class ControlError(Exception):
    """A request the API rejects, with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def faults_json(faults: Faults) -> dict[str, Any]:
    """Faults as JSON-safe values (bytes as latin-1 text)."""
    data = asdict(faults)
    data["garbage"] = faults.garbage.decode("latin-1")
    data["cms_error_next"] = list(faults.cms_error_next) if faults.cms_error_next else None
    return data


def modem_json(network: Network, modem: SimModem) -> dict[str, Any]:
    """The public description of one modem."""
    link = network.link_path(modem)
    return {
        "index": modem.index,
        "msisdn": modem.msisdn,
        "imei": modem.imei,
        "imsi": modem.imsi,
        "iccid": modem.iccid,
        "profile": modem.profile.name,
        "path": modem.path,
        "link": str(link) if link else None,
        "plugged": modem.plugged,
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        log.debug("control: " + format, *args)

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _segments(self) -> list[str]:
        path = urllib.parse.urlsplit(self.path).path
        return [urllib.parse.unquote(s) for s in path.strip("/").split("/") if s]

    def _body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        try:
            body = json.loads(self.rfile.read(length).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ControlError(400, f"body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ControlError(400, "body must be a JSON object")
        return body

    def _modem(self, raw: str) -> SimModem:
        try:
            return self.server.network.modems[int(raw)]
        except (ValueError, IndexError):
            raise ControlError(404, f"no modem {raw!r}") from None

    def _phone_number(self, raw: str) -> str:
        # A '+' may arrive literally, URL-encoded, or be left out; a known number wins.
        phones = self.server.network.phones
        for candidate in (raw, "+" + raw.lstrip(" +")):
            if candidate in phones:
                return candidate
        return raw if raw.startswith("+") else "+" + raw.lstrip(" ")

    def _handle(self, method: str) -> None:
        try:
            status, body = self._route(method, self._segments())
        except ControlError as exc:
            status, body = exc.status, {"error": str(exc)}
        except (KeyError, ValueError, TypeError) as exc:
            status, body = 400, {"error": str(exc)}
        self._reply(status, body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("POST")

    def _route(self, method: str, parts: list[str]) -> tuple[int, Any]:
        network = self.server.network
        if method == "GET" and parts == ["modems"]:
            return 200, [modem_json(network, m) for m in network.modems]
        if method == "GET" and parts == ["phones"]:
            return 200, sorted(network.phones)
        if len(parts) == 2 and parts[0] == "modems" and method == "GET":
            modem = self._modem(parts[1])
            data = modem_json(network, modem)
            data["faults"] = faults_json(modem.faults)
            data["stored"] = [{"index": s.index, "stat": s.stat, "kind": s.kind, "from": s.sender, "text": s.text} for s in modem.stored()]
            data["submits"] = [asdict(s) for s in modem.submits]
            return 200, data
        if len(parts) == 3 and parts[0] == "phones" and parts[2] == "inbox" and method == "GET":
            number = self._phone_number(parts[1])
            phone = network.phones.get(number)
            return 200, [m.as_json() for m in phone.inbox] if phone else []
        if len(parts) == 3 and parts[0] == "phones" and parts[2] == "send" and method == "POST":
            body = self._body()
            phone = network.phone(self._phone_number(parts[1]))
            to = body.get("to")
            if not isinstance(to, str):
                raise ControlError(400, 'body needs "to" (a modem MSISDN)')
            try:
                network.modem_for(to)
            except KeyError as exc:
                raise ControlError(404, str(exc.args[0])) from None
            if isinstance(body.get("pdu"), str):
                return 200, {"parts": phone.send_pdu(to=to, pdu=body["pdu"])}
            if isinstance(body.get("text"), str):
                return 200, {"parts": phone.send(to=to, text=body["text"])}
            raise ControlError(400, 'body needs "text" or "pdu"')
        if len(parts) == 3 and parts[0] == "modems" and method == "POST":
            modem = self._modem(parts[1])
            if parts[2] == "faults":
                knobs = self._body()
                if isinstance(knobs.get("cms_error_next"), list):
                    knobs["cms_error_next"] = tuple(knobs["cms_error_next"])
                return 200, faults_json(modem.set_faults(**knobs))
            if parts[2] == "unplug":
                modem.unplug()
                return 200, modem_json(network, modem)
            if parts[2] == "replug":
                modem.replug()
                return 200, modem_json(network, modem)
        raise ControlError(404, f"no route {method} /{'/'.join(parts)}")


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], network: Network) -> None:
        super().__init__(address, _Handler)
        self.network = network


class ControlServer:
    """The control API served on a background thread; `url` tells where."""

    def __init__(self, network: Network, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), network)
        self._thread = threading.Thread(target=self._server.serve_forever, name="sim-control", daemon=True)

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8765."""
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else host
        return f"http://{name}:{port}"

    def start(self) -> ControlServer:
        """Start serving; returns self."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
