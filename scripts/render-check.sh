#!/usr/bin/env bash
# Renders the pull-request Markdown of three plans as GitHub would show it
# (marked + mermaid 11 from npm, in headless Chromium from Debian) and
# fails on a mermaid parse or render error, a comment over 65,536
# characters, or a diagram drawn below half scale in a 1,012 px comment:
#   - examples/quickstart (3 VMs) and examples/csv-wave (20 VMs);
#   - a generated wave of 1,000 VMs in a 6-hour window (which does not fit).
# Each is planned in its simulated world; the comment form (plan --format
# markdown, show --comment) and the full form (show --format markdown, a
# file) are both rendered.
#
# Installs what it needs and is idempotent: Chromium with apt-get (as root)
# when there is none, and pinned npm packages into .render-check/ (not
# node_modules/, where installing Azurite with --no-save would prune them).
set -euo pipefail
cd "$(dirname "$0")/.."

deps=.render-check
packages="marked@15.0.12 mermaid@11.17.2 puppeteer-core@24.43.1"

log=$(mktemp)
work=$(mktemp -d)
trap 'rm -rf "$log" "$work"' EXIT

chromium=$(command -v chromium || true)
if [ -z "$chromium" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "render-check.sh: no chromium; install Debian's package: apt-get install chromium" >&2
    exit 1
  fi
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "render-check.sh: apt-get install chromium failed" >&2
    exit 1
  fi
  chromium=$(command -v chromium)
fi

if [ "$(cat "$deps/.installed" 2>/dev/null)" != "$packages" ]; then
  mkdir -p "$deps"
  echo '{"private": true}' >"$deps/package.json"
  # PUPPETEER_SKIP_DOWNLOAD: puppeteer-core downloads nothing, but say so
  # in case a dependency asks; the browser is Debian's.
  if ! PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix "$PWD/$deps" --no-save --no-audit --no-fund --no-progress \
    --loglevel=error $packages >"$log" 2>&1; then
    cat "$log" >&2
    echo "render-check.sh: npm install $packages failed" >&2
    exit 1
  fi
  echo "$packages" >"$deps/.installed"
fi

go build -o "$work/cutover" ./cmd/cutover
cutover="$work/cutover"

comments=()
fulls=()
plan() { # NAME DIR: plan in the simulated world, write both forms
  local name=$1 dir=$2
  "$cutover" plan "$dir" --sim --out "$work/$name.plan" --format markdown >"$work/$name.plan.md" 2>"$log" || {
    cat "$log" >&2
    exit 1
  }
  "$cutover" show "$work/$name.plan" --format markdown --comment >"$work/$name.comment.md"
  "$cutover" show "$work/$name.plan" --format markdown >"$work/$name.full.md"
  comments+=("$work/$name.plan.md" "$work/$name.comment.md")
  fulls+=("$work/$name.full.md")
}

for ex in quickstart csv-wave; do
  cp -r "examples/$ex" "$work/$ex"
  rm -rf "$work/$ex/.cutover"
  plan "$ex" "$work/$ex"
done

# 1,000 VMs: the csv-wave runbook over a generated CSV, in a 6-hour window.
mkdir "$work/wave1000"
sed 's/duration = "48h"/duration = "6h"/' examples/csv-wave/main.hcl >"$work/wave1000/main.hcl"
awk 'BEGIN {
  print "name,size,subnet,ip,disk_type,stage,mac"
  for (i = 1; i <= 1000; i++)
    printf "w-%04d,Standard_D4s_v5,%s,10.20.%d.%d,StandardSSD_LRS,%s,00:50:56:a2:%02x:%02x\n",
      i, (i % 3 ? "web" : "data"), int(i / 250), i % 250 + 1, (i % 5 ? "migrated" : "completed"), int(i / 256), i % 256
}' >"$work/wave1000/wave1.csv"
plan wave1000 "$work/wave1000"

node scripts/render-check.cjs "$chromium" "$deps" --comment "${comments[@]}" --full "${fulls[@]}"
