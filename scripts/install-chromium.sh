#!/usr/bin/env bash
# Installs Debian's chromium for the end-to-end tests (test/e2e-*.test.mjs), which drive it through
# playwright-core rather than a browser downloaded by Playwright: the distribution package gets security
# updates with the rest of the system and needs no network access at test time.
# Safe to run again: it does nothing when /usr/bin/chromium is already there.
set -euo pipefail

if [ -x /usr/bin/chromium ]; then
  echo "chromium is installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi

# apt needs root; use sudo only when we are not root already (CI containers usually are).
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y chromium

if [ ! -x /usr/bin/chromium ]; then
  echo "FAILED: apt-get installed chromium but /usr/bin/chromium is missing" >&2
  exit 1
fi
echo "chromium installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
