#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator) into node_modules/ at the
# repository root for the blob backend's tests
# (executor/journal/blobstore), which find it there or through
# AZURITE_BLOB. Idempotent: does nothing when the pinned version is already
# installed. Prints nothing but errors.
set -euo pipefail
cd "$(dirname "$0")/.."

version=3.37.0
bin=node_modules/.bin/azurite-blob
pkg=node_modules/azurite/package.json

if [ -x "$bin" ] && [ -f "$pkg" ] &&
  grep -q "\"version\": *\"$version\"" "$pkg"; then
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "azurite.sh: npm not found; install Node.js and npm" >&2
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
# --prefix keeps npm from installing into a parent directory that happens
# to hold a package.json.
if ! npm install --prefix "$PWD" --no-save --no-audit --no-fund --no-progress \
  --loglevel=error "azurite@$version" >"$log" 2>&1; then
  cat "$log" >&2
  echo "azurite.sh: npm install azurite@$version failed" >&2
  exit 1
fi
if [ ! -x "$bin" ]; then
  echo "azurite.sh: npm install finished but $bin is missing" >&2
  exit 1
fi
