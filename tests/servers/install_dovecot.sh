#!/usr/bin/env bash
# Install Dovecot's IMAP server for the tests in tests/servers, once; silent when it is there.
#
# The tests start their own private Dovecot (tests/servers/dovecot.py) and never want the
# system-wide service the package brings: it is kept from starting and left disabled.
set -euo pipefail

# Owner of the test mailboxes when the tests run as root: Dovecot refuses to access mail as
# uid 0, and its own `dovecot`/`dovenull` users are reserved for its internal processes.
MAIL_USER=dovecot-test

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

if [ ! -x /usr/sbin/dovecot ]; then
    echo "Installing Dovecot (IMAP) for the tests..."
    log="$(mktemp)"
    # A policy-rc.d answering 101 is Debian's way to tell maintainer scripts "start no
    # services" (Docker images ship one); ours goes again afterwards, one in place stays.
    policy=/usr/sbin/policy-rc.d
    placed_policy=""
    cleanup() {
        if [ -n "$placed_policy" ]; then $SUDO rm -f "$policy"; fi
        rm -f "$log"
    }
    trap cleanup EXIT
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
        $SUDO chmod 755 "$policy"
        placed_policy="yes"
    fi
    if ! {
        $SUDO apt-get update -qq &&
            $SUDO env DEBIAN_FRONTEND=noninteractive \
                apt-get install -y -qq -o Dpkg::Use-Pty=0 dovecot-imapd
    } >"$log" 2>&1; then
        cat "$log" >&2
        echo "Installing dovecot-imapd failed (output above)." >&2
        exit 1
    fi

    # The package enables its service for the next boot: disable it, and stop it should it
    # have started anyway (no policy-rc.d honoured, or systemd running).
    if [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now dovecot.service dovecot.socket >/dev/null 2>&1 || true
    elif command -v systemctl >/dev/null; then
        # Offline: removes the unit's wants/ symlinks and the SysV links alike.
        $SUDO systemctl disable dovecot.service dovecot.socket >/dev/null 2>&1 || true
    fi
    if [ -s /run/dovecot/master.pid ] &&
        $SUDO kill -0 "$(cat /run/dovecot/master.pid)" 2>/dev/null; then
        $SUDO service dovecot stop >/dev/null 2>&1 || true
    fi
    $SUDO update-rc.d dovecot disable >/dev/null 2>&1 || true
    echo "Dovecot $(/usr/sbin/dovecot --version | cut -d' ' -f1) installed; its service is disabled."
fi

if [ "$(id -u)" -eq 0 ] && ! id -u "$MAIL_USER" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "Owner of the test suite's IMAP mailboxes" \
        "$MAIL_USER"
fi
