#!/usr/bin/env bash
# Install Debian's chromium and chromium-driver when they are missing. The dashboard tests
# (tests/dashboard) drive this browser headless with Selenium through /usr/bin/chromedriver, so
# nothing is downloaded at test time (no Selenium Manager, no Playwright browser download).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "chromium / chromedriver not found: installing chromium chromium-driver with apt-get" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver >/dev/null
