#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests in tests/web, once; silent when it is there.
#
# Playwright drives it through `executable_path`: Playwright's own browser download is never
# used, so the machine needs nothing beyond Debian's package.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

echo "Installing Chromium (headless browser tests)..."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if ! {
    $SUDO apt-get update -qq &&
        $SUDO env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq -o Dpkg::Use-Pty=0 --no-install-recommends chromium fonts-dejavu-core
} >"$log" 2>&1; then
    cat "$log" >&2
    echo "Installing chromium failed (output above)." >&2
    exit 1
fi
echo "$(/usr/bin/chromium --version 2>/dev/null || echo Chromium) installed."
