#!/usr/bin/env bash
# smsgw installer — one entry point, safe to run again.
#
#   ./install.sh --demo [args]   create .venv, install, run the demo on simulated modems (http://localhost:8080)
#   ./install.sh --test [args]   create .venv with the test extra, run the whole test suite (args go to pytest)
#   sudo ./install.sh            install the appliance: user smsgw, /opt/smsgw, /etc/smsgw, systemd unit, udev rules
#   ./install.sh --destdir DIR   the appliance install written under DIR, without root, systemctl or useradd
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

die() { echo "install.sh: $*" >&2; exit 2; }

find_python() {
    local candidate
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            command -v "$candidate"
            return 0
        fi
    done
    die "Python 3.11 or newer with venv is required (Debian: sudo apt-get install python3 python3-venv)"
}

# ensure_venv DIR EXTRA: create the venv if missing and (re)install when pyproject.toml changed since the
# last install; a stamp file holding the hash of pyproject.toml and the extra makes a second run a no-op.
ensure_venv() {
    local venv="$1" extra="$2" python stamp want
    if [ ! -x "$venv/bin/python" ]; then
        python="$(find_python)"
        echo "install.sh: creating $venv with $python"
        "$python" -m venv "$venv"
    fi
    stamp="$venv/.smsgw-installed"
    want="$(sha256sum pyproject.toml | cut -d' ' -f1) extra=$extra src=$here"
    # A venv installed with the test extra also serves the demo (the extra only adds packages).
    local also="$(sha256sum pyproject.toml | cut -d' ' -f1) extra=test src=$here"
    if [ -f "$stamp" ] && [ -z "$extra" ] && [ "$(cat "$stamp")" = "$also" ]; then
        return 0
    fi
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        echo "install.sh: installing smsgw into $venv"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
        local spec="."
        [ -n "$extra" ] && spec=".[$extra]"
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --editable "$spec"
        echo "$want" >"$stamp"
    fi
}

appliance() {
    local destdir="$1"
    local root="${destdir%/}"
    local real=1
    [ -n "$destdir" ] && real=0
    if [ "$real" = 1 ] && [ "$(id -u)" != 0 ]; then
        die "the appliance install needs root: sudo ./install.sh   (or ./install.sh --demo to try it out)"
    fi
    local opt="$root/opt/smsgw" etc="$root/etc/smsgw" state="$root/var/lib/smsgw"
    local unitdir="$root/etc/systemd/system" udevdir="$root/etc/udev/rules.d"

    if [ "$real" = 1 ]; then
        if ! id smsgw >/dev/null 2>&1; then
            useradd --system --home-dir /var/lib/smsgw --no-create-home --shell /usr/sbin/nologin smsgw
        fi
        usermod -a -G dialout smsgw
    fi
    install -d -m 0755 "$opt" "$etc" "$unitdir" "$udevdir"
    install -d -m 0750 "$state"
    if [ "$real" = 1 ]; then chown smsgw:smsgw "$state"; fi

    # The application: a fresh copy of this tree (without venvs and caches) swapped in whole, so files removed
    # from a new version do not linger; installed editable into its own venv.
    local app="$opt/app"
    rm -rf "$app.new" "$app.old"
    install -d -m 0755 "$app.new"
    tar -C "$here" --exclude=./.venv --exclude=./.git --exclude=__pycache__ --exclude='*.egg-info' \
        --exclude=.pytest_cache --exclude=.hypothesis --exclude=./demo-data --exclude=./tests/artifacts \
        --exclude=./sim-links -cf - . | tar -C "$app.new" --no-same-owner -xf -
    # The code the service runs belongs to root, not to whoever owns the checkout it came from.
    if [ "$real" = 1 ]; then chown -R root:root "$app.new"; fi
    if [ -d "$app" ]; then mv "$app" "$app.old"; fi
    mv "$app.new" "$app"
    rm -rf "$app.old"
    (cd "$app" && ensure_venv "$opt/venv" "")
    ln -sfn "$opt/venv/bin/smsgw" "$opt/smsgw"

    if [ ! -f "$etc/config.toml" ]; then
        install -m 0640 gateway/config.example.toml "$etc/config.toml"
        if [ "$real" = 1 ]; then chgrp smsgw "$etc/config.toml"; fi
        echo "install.sh: wrote $etc/config.toml"
    else
        echo "install.sh: kept the existing $etc/config.toml"
    fi
    install -m 0644 systemd/smsgw.service "$unitdir/smsgw.service"
    install -m 0644 systemd/99-smsgw-modems.rules "$udevdir/99-smsgw-modems.rules"

    if [ "$real" = 1 ]; then
        udevadm control --reload-rules 2>/dev/null && udevadm trigger --subsystem-match=tty 2>/dev/null || true
        systemctl daemon-reload
        systemctl enable smsgw
        systemctl restart smsgw
        local ip
        ip="$(hostname -I 2>/dev/null | awk '{print $1}')"
        cat <<EOF

smsgw is installed and running.
  Web page:          http://${ip:-<this-machine>}:8080/
  Create the first admin:   sudo -u smsgw /opt/smsgw/smsgw --config /etc/smsgw/config.toml user add admin
  Settings:          /etc/smsgw/config.toml   (then: sudo systemctl restart smsgw)
  Logs:              journalctl -u smsgw -f
EOF
    else
        echo "install.sh: appliance tree written under $root"
    fi
}

mode="appliance"
destdir=""
case "${1:-}" in
    --test) mode="test"; shift ;;
    --demo) mode="demo"; shift ;;
    --destdir)
        [ $# -ge 2 ] || die "--destdir needs a directory"
        destdir="$(mkdir -p "$2" && cd "$2" && pwd)"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    "") ;;
    *) die "unknown option $1 (see ./install.sh --help)" ;;
esac

case "$mode" in
    test)
        ensure_venv "$here/.venv" test
        exec "$here/.venv/bin/python" -m pytest "$@"
        ;;
    demo)
        ensure_venv "$here/.venv" ""
        exec "$here/.venv/bin/smsgw" demo "$@"
        ;;
    appliance)
        appliance "$destdir"
        ;;
esac
