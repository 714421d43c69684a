#!/usr/bin/env bash
# Debian's chromium for the console's browser tests (playwright-core drives it; playwright's own browser downloads
# are not reachable here). Installs it with apt when /usr/bin/chromium is missing; needs root (CI runs as root).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
echo "installing chromium (apt) for the console's browser tests"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version
