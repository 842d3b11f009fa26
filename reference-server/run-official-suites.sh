#!/usr/bin/env bash
# Runs the official test suites, unchanged, against build/reference-server with the settings they
# expect (port 3000, pingInterval 300, pingTimeout 200, connectTimeout 1000).
#
#   reference-server/run-official-suites.sh SUITE_DIR [SUITE_DIR ...]
#
# Each SUITE_DIR is a `test-suite` folder of socketio/socket.io-protocol (path /socket.io/) or
# socketio/engine.io-protocol (path /engine.io/, served by the built-in echo application), with its
# npm dependencies installed (`npm ci` in that folder). The suites hard-code port 3000, so nothing
# else may listen there. Exit status: non-zero if any suite failed.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
server="${REFERENCE_SERVER:-$here/build/reference-server}"
[ $# -ge 1 ] || { sed -n '2,12p' "$0"; exit 2; }

coproc SERVER { exec "$server" --port 3000 --ping-interval 300 --ping-timeout 200 --connect-timeout 1000; }
pid=$SERVER_PID
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
read -r -t 10 ready <&"${SERVER[0]}" || true
[ "${ready:-}" = "READY 3000" ] || { echo "server did not start on port 3000" >&2; exit 1; }

status=0
for suite in "$@"; do
    echo "== $suite"
    (cd "$suite" && npx mocha test-suite.js) || status=1
done
exit $status
