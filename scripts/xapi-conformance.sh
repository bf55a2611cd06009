#!/usr/bin/env bash
# Run the ADL LRS conformance suite against a fresh `impactlens serve`.
#   scripts/xapi-conformance.sh SUITE_DIR [VERSION] [extra runner args, e.g. -g REGEX]
# SUITE_DIR: a checkout of adlnet/lrs-conformance-test-suite with `npm install` done (it is never
# vendored here). Prints the runner's summary line; the full log is in $WORK/suite.log.
# IMPACTLENS_STORE=postgresql://... runs it on a PostgreSQL store; SERVE_ARGS="--workers 2"
# passes options to `impactlens serve` (several workers need PostgreSQL).
set -euo pipefail
suite=${1:?usage: scripts/xapi-conformance.sh SUITE_DIR [1.0.3|2.0.0] [runner args]}
version=${2:-1.0.3}
shift $(( $# >= 2 ? 2 : 1 ))
here=$(cd "$(dirname "$0")/.." && pwd)
bin="$here/.venv/bin"
port=${PORT:-8765}
work=$(mktemp -d)
"$bin/impactlens" init "$work/ws" >/dev/null
cred=$("$bin/impactlens" lrs client create suite --scope all --json --workspace "$work/ws")
key=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["key"])' "$cred")
secret=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["secret"])' "$cred")
# shellcheck disable=SC2086 # SERVE_ARGS is a list of options
"$bin/impactlens" serve --workspace "$work/ws" --port "$port" ${SERVE_ARGS:-} >"$work/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/xapi/about" && break
  sleep 0.5
done
cd "$suite"
# the runner's exit code is the failure count mod 256: read the summary instead
node bin/console_runner.js -e "http://127.0.0.1:$port/xapi" -a -u "$key" -p "$secret" \
  -x "$version" "$@" >"$work/suite.log" 2>&1 || true
grep '"total"' "$work/suite.log" | tail -1
echo "full log: $work/suite.log"
