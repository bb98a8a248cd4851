"""install.sh: the appliance tree under --destdir, idempotence, the systemd unit and udev rules."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(600)


def _tree(root: Path) -> dict[str, str]:
    """Relative path → content hash of every file outside the venv (the venv is checked separately)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_file() and not rel.startswith("opt/smsgw/venv/") and "__pycache__" not in rel \
                and ".egg-info" not in rel:
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def destdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("appliance")
    result = subprocess.run([str(ROOT / "install.sh"), "--destdir", str(root)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr + result.stdout
    return root


def test_the_tree_it_produces(destdir: Path) -> None:
    unit = destdir / "etc/systemd/system/smsgw.service"
    rules = destdir / "etc/udev/rules.d/99-smsgw-modems.rules"
    config = destdir / "etc/smsgw/config.toml"
    assert unit.read_text() == (ROOT / "systemd/smsgw.service").read_text()
    assert 'ENV{ID_MM_DEVICE_IGNORE}="1"' in rules.read_text()
    assert "SYMLINK+=\"smsgw/" in rules.read_text()
    assert config.read_text() == (ROOT / "gateway/config.example.toml").read_text()
    assert oct(config.stat().st_mode & 0o777) == "0o640"
    assert (destdir / "var/lib/smsgw").is_dir()
    smsgw = destdir / "opt/smsgw/venv/bin/smsgw"
    assert os.access(smsgw, os.X_OK)
    assert (destdir / "opt/smsgw/app/gateway/cli.py").is_file()
    assert (destdir / "opt/smsgw/app/modem_profiles/generic.toml").is_file()
    assert not (destdir / "opt/smsgw/app/.venv").exists()
    result = subprocess.run([str(smsgw), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "smsgw" in result.stdout
    # the installed program runs from the installed copy, not from this checkout
    result = subprocess.run([str(destdir / "opt/smsgw/venv/bin/python"), "-c",
                             "import gateway; print(gateway.__file__)"], capture_output=True, text=True, timeout=60,
                            cwd=destdir)
    assert result.stdout.strip().startswith(str(destdir / "opt/smsgw/app"))


def test_running_it_again_changes_nothing_and_keeps_an_edited_config(destdir: Path) -> None:
    config = destdir / "etc/smsgw/config.toml"
    config.write_text(config.read_text() + '\n# edited by staff\n')
    before = _tree(destdir)
    result = subprocess.run([str(ROOT / "install.sh"), "--destdir", str(destdir)], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert "kept the existing" in result.stdout
    assert "installing smsgw" not in result.stdout  # the venv was current
    assert _tree(destdir) == before


def test_unit_keys_and_systemd_verify(tmp_path: Path) -> None:
    text = (ROOT / "systemd/smsgw.service").read_text()
    for line in ("Type=notify", "User=smsgw", "SupplementaryGroups=dialout", "StateDirectory=smsgw",
                 "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes", "NoNewPrivileges=yes",
                 "Restart=on-failure", "DeviceAllow=char-ttyUSB rw", "DeviceAllow=char-ttyACM rw"):
        assert line in text.splitlines(), line
    assert any(line.startswith("WatchdogSec=") for line in text.splitlines())
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not present")
    # verify needs ExecStart to exist; point it at a real executable, keep everything else
    unit = tmp_path / "smsgw.service"
    unit.write_text(text.replace("/opt/smsgw/venv/bin/smsgw", shutil.which("true") or "/bin/true"))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "smsgw.service" not in result.stderr, result.stderr


def test_appliance_mode_without_root_refuses_clearly() -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root: the real install would proceed")
    result = subprocess.run([str(ROOT / "install.sh")], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "needs root" in result.stderr
