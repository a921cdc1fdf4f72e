#!/usr/bin/env bash
# What `npm test` needs beyond npm packages: Debian's Chromium for the Web UI tests. (The Temporal
# CLI and temporal-server are found or built with Go by the tests themselves, into ~/.cache/keel.)
# Installs Chromium when it is missing and this user may (root, or sudo without a password);
# otherwise says exactly what to install, before anything runs.
set -uo pipefail

chromium="${KEEL_CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$chromium" ]; then exit 0; fi

as_root=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root="sudo"
  else
    echo "npm test needs Chromium for the Web UI tests, and $chromium is missing." >&2
    echo "Install Debian's package (sudo apt-get install chromium), or set KEEL_CHROMIUM_PATH to a Chromium binary." >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "npm test needs Chromium for the Web UI tests: install it with your system's package manager, then set KEEL_CHROMIUM_PATH to it." >&2
  exit 1
fi
echo "installing Debian's chromium for the Web UI tests (once)" >&2
$as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq chromium >/dev/null
if [ ! -x "$chromium" ]; then
  echo "could not install chromium with apt-get: install it by hand (apt-get install chromium) or set KEEL_CHROMIUM_PATH" >&2
  exit 1
fi
