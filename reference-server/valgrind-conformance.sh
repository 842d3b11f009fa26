#!/usr/bin/env bash
# The whole conformance suite (conformance/tests/protocol) against build/reference-server running
# under valgrind memcheck, with Engine.IO v3 enabled so that every code path the suite reaches is
# exercised. Fails if valgrind reports any invalid access or any definite/indirect leak at the
# clean shutdown that follows the run (the suite's own verdicts are printed but do not decide).
#
#   reference-server/valgrind-conformance.sh        (make test-server-valgrind-conformance)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
log=$(mktemp)
coproc SERVER { exec valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite,indirect \
    --error-exitcode=99 --log-file="$log" "$root/build/reference-server" --port 0 \
    --ping-interval 300 --ping-timeout 200 --connect-timeout 1000 --eio3; }
pid=$SERVER_PID
read -r -t 60 ready <&"${SERVER[0]}" || true
port=${ready#READY }
[ -n "$port" ] && [ "$port" != "${ready:-}" ] || { echo "server did not start" >&2; kill "$pid"; exit 1; }

(cd "$root/conformance" && "$root/build/venv/bin/python" -m pytest tests/protocol -q \
    --target "http://127.0.0.1:$port" --eio3) | tail -n 12 || true

kill -TERM "$pid"
status=0
wait "$pid" || status=$?
cat "$log"
rm -f "$log"
if [ "$status" -ne 0 ]; then
    echo "valgrind: errors or leaks (exit status $status)" >&2
    exit 1
fi
echo "valgrind: no invalid access, no leak"
