#!/usr/bin/env bash
# Installs the Debian packages the tests drive (real nginx, wrk, hey, ab, promtool, amtool,
# blackbox_exporter, testssl.sh, strace for verify's start-up item, chromium for the HTML
# reports, pgloader as the peer of db migrate's benchmark, MariaDB as a source of db migrate)
# when they are missing. Idempotent
# and quiet when everything is present.
set -euo pipefail
declare -A want=(
  [nginx]=nginx [wrk]=wrk [hey]=hey [ab]=apache2-utils [promtool]=prometheus
  [testssl]=testssl.sh [openssl]=openssl [strace]=strace [systemd-analyze]=systemd [curl]=curl
  [chromium]=chromium [pgloader]=pgloader [mariadbd]=mariadb-server
  [amtool]=prometheus-alertmanager [prometheus-blackbox-exporter]=prometheus-blackbox-exporter
)
missing=()
for cmd in "${!want[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${want[$cmd]}")
done
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
echo "installing Debian packages: ${missing[*]}"
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# prometheus and nginx try to start as services; policy-rc.d keeps them from doing so in containers.
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
