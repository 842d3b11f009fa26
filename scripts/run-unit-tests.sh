#!/usr/bin/env bash
# Runs each C unit-test program and prints one summary line: "unit: N passed, N failed".
set -u
passed=0; failed=0
for t in "$@"; do
  if out=$("$t" 2>&1); then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $t"; echo "$out" | tail -40
  fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
