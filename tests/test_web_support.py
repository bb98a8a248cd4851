"""An in-process WSGI client for the web tests (cookies, CSRF, forms), and a check that it works."""

from __future__ import annotations

import io
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from gateway import auth, config as configuration, store
from gateway.states import Role
from gateway.store import users


@dataclass
class Response:
    """What the app answered."""

    status: int
    headers: list[tuple[str, str]]
    text: str

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def location(self) -> str:
        return urllib.parse.urlsplit(self.header("Location") or "").path

    def json(self) -> Any:
        return json.loads(self.text)


@dataclass
class Client:
    """A browser-like client of a WSGI app: keeps cookies, finds the CSRF token, sends forms."""

    app: Any
    host: str = "localhost"
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def request(self, method: str, path: str, *, form: dict[str, Any] | None = None, body: bytes | None = None,
                content_type: str | None = None, headers: dict[str, str] | None = None,
                origin: str | None = "default") -> Response:
        parts = urllib.parse.urlsplit(path)
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True).encode("utf-8")
            content_type = "application/x-www-form-urlencoded"
        body = body or b""
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method, "PATH_INFO": urllib.parse.unquote(parts.path).encode("utf-8").decode("latin-1"),
            "QUERY_STRING": parts.query, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
            "SERVER_PROTOCOL": "HTTP/1.1", "wsgi.version": (1, 0), "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(body), "wsgi.errors": io.StringIO(), "wsgi.multithread": False,
            "wsgi.multiprocess": False, "wsgi.run_once": False, "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": self.host,
        }
        if content_type:
            environ["CONTENT_TYPE"] = content_type
        if self.cookies:
            environ["HTTP_COOKIE"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method == "POST" and origin:
            environ["HTTP_ORIGIN"] = f"http://{self.host}" if origin == "default" else origin
        for k, v in (headers or {}).items():
            environ["HTTP_" + k.upper().replace("-", "_")] = v
        captured: dict[str, Any] = {}

        def start_response(status: str, hdrs: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, hdrs

        chunks = self.app(environ, start_response)
        data = b"".join(chunks)
        if hasattr(chunks, "close"):
            chunks.close()
        for k, v in captured["headers"]:
            if k.lower() == "set-cookie":
                jar: SimpleCookie = SimpleCookie()
                jar.load(v)
                for name, morsel in jar.items():
                    if morsel["max-age"] == "-1" or morsel.value == "" or morsel["expires"].startswith("Thu, 01 Jan 1970"):
                        self.cookies.pop(name, None)
                    else:
                        self.cookies[name] = morsel.value
        text = data.decode("utf-8", "replace")
        found = re.search(r'data-csrf="([^"]+)"', text)
        if found:
            self.csrf = found.group(1)
        return Response(int(captured["status"].split()[0]), captured["headers"], text)

    def get(self, path: str, **kw: Any) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, form: dict[str, Any] | None = None, *, csrf: bool = True, **kw: Any) -> Response:
        form = dict(form or {})
        if csrf and "csrf" not in form:
            form["csrf"] = self.csrf
        return self.request("POST", path, form=form, **kw)

    def upload(self, path: str, files: dict[str, tuple[str, bytes]], fields: dict[str, str] | None = None, *,
               csrf: bool = True) -> Response:
        """POST a multipart/form-data form with files ({field: (filename, content)}), as a browser uploads."""
        boundary = "----smsgw-test-boundary-7MA4YWxkTrZu0gW"
        fields = dict(fields or {})
        if csrf and "csrf" not in fields:
            fields["csrf"] = self.csrf
        chunks: list[bytes] = []
        for name, value in fields.items():
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
                          + value.encode("utf-8") + b"\r\n")
        for name, (filename, content) in files.items():
            chunks.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                          f"Content-Type: text/csv\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(chunks) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body=body, content_type=f"multipart/form-data; boundary={boundary}")

    def login(self, username: str, password: str) -> Response:
        session = self.cookies.pop("smsgw_session", None)
        page = self.get("/login")  # a signed-in browser is sent on; fetch the form as a stranger would
        if session:
            self.cookies["smsgw_session"] = session
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token, page.text
        resp = self.request("POST", "/login", form={"csrf": token.group(1), "username": username,
                                                    "password": password, "next": "/"})
        if resp.status == 303:
            self.get("/outbox")  # any page: picks up the session's CSRF token
        return resp


PASSWORD = "correct horse battery"


def make_web_config(tmp_path: Path, **sections: dict[str, Any]) -> configuration.Config:
    """A config whose database is in tmp_path."""
    data: dict[str, Any] = {"database": {"path": str(tmp_path / "web.db")}, "web": {"allowed_hosts": ["smsgw.local"]}}
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return configuration.parse(data)


def add_user(db: store.Database, name: str, role: Role, contact_id: int | None = None) -> int:
    """Create a web user with the shared test password."""
    return users.add_user(db, name, auth.hash_password(PASSWORD), role, 0.0, contact_id=contact_id)


def test_client_keeps_cookies_and_reads_csrf(tmp_path: Path) -> None:
    from gateway.web import make_app

    config = make_web_config(tmp_path)
    db = store.connect(config.database.path)
    add_user(db, "anna", Role.ADMIN)
    client = Client(make_app(config))
    assert client.login("anna", PASSWORD).status == 303
    assert "smsgw_session" in client.cookies and client.csrf
