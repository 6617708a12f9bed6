#!/bin/sh
# Installs Debian's chromium for the browser tests (test/browser), unless it is already there.
# The tests drive it with playwright-core; no browser is downloaded from anywhere else.
set -eu
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends chromium
