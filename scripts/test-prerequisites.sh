#!/usr/bin/env bash
# What `npm test` needs beyond npm packages: Debian's Chromium for the Web UI tests, and openssl for
# the mutual-TLS test's certificates. (The Temporal CLI and temporal-server are found or built with
# Go by the tests themselves, into ~/.cache/keel.) Installs what is missing when this user may
# (root, or sudo without a password); otherwise says exactly what to install, before anything runs.
set -uo pipefail

chromium="${KEEL_CHROMIUM_PATH:-/usr/bin/chromium}"
missing=()
[ -x "$chromium" ] || missing+=(chromium)
command -v openssl >/dev/null || missing+=(openssl)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

as_root=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    as_root="sudo"
  else
    echo "npm test needs ${missing[*]} (Chromium for the Web UI tests, openssl for the mTLS test's certificates), missing here." >&2
    echo "Install Debian's packages (sudo apt-get install ${missing[*]}); KEEL_CHROMIUM_PATH may name a Chromium binary." >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null; then
  echo "npm test needs ${missing[*]}: install them with your system's package manager (KEEL_CHROMIUM_PATH may name a Chromium binary)." >&2
  exit 1
fi
echo "installing Debian's ${missing[*]} for the tests (once)" >&2
$as_root apt-get update -qq && DEBIAN_FRONTEND=noninteractive $as_root apt-get install -y -qq "${missing[@]}" >/dev/null
if [ ! -x "$chromium" ] || ! command -v openssl >/dev/null; then
  echo "could not install ${missing[*]} with apt-get: install them by hand (apt-get install ${missing[*]}), or set KEEL_CHROMIUM_PATH" >&2
  exit 1
fi
