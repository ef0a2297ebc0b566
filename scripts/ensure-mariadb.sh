#!/usr/bin/env bash
# Install the MariaDB server binaries when they are missing (Debian/Ubuntu). The tests and the demo
# start their own private server from them; no system service is used.
set -euo pipefail
if command -v mariadbd >/dev/null 2>&1 || [ -x /usr/sbin/mariadbd ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "MariaDB server not found: installing mariadb-server with apt-get" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mariadb-server mariadb-client >/dev/null
