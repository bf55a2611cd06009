#!/usr/bin/env bash
# Installs the Debian packages the full test suite needs: chromium for the
# real-browser tests, postgresql and Java for the PostgreSQL and Spark engines' tests.
# Fails loudly, naming the command, when it cannot.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
# the PostgreSQL engine's tests start a throw-away server from Debian's binaries
command -v pg_ctl >/dev/null 2>&1 || compgen -G "/usr/lib/postgresql/*/bin/pg_ctl" >/dev/null \
  || need+=(postgresql)
# the Spark engine's tests start a local Spark session, which runs on Java
command -v java >/dev/null 2>&1 || need+=(openjdk-17-jre-headless)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
bash "$(dirname "$0")/apt-install.sh" "the full test suite" "${need[@]}"
