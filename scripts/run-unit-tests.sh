#!/usr/bin/env bash
# Runs each C unit-test program once per codec path (SIO_TEST_SIMD: scalar, sse2, avx2, neon; once
# for test_simd, which selects every path itself) and
# prints one summary line: "unit: N passed, N failed", then which paths ran. A program that ends
# with status 77 found its path missing from this build or CPU: it counts as not run, and the
# path is listed as not available.
set -u
passed=0; failed=0
declare -A ran=() missing=()
for t in "$@"; do
  paths="scalar sse2 avx2 neon"
  # examples: one run; test_simd compares every available path with the scalar one within each
  # run, so running it once per path would repeat the same comparisons
  case "$(basename "$t")" in test_simd) paths=default ;; test_*) ;; *) paths=default ;; esac
  for path in $paths; do
    if [ "$path" = default ]; then out=$("$t" 2>&1); else out=$(SIO_TEST_SIMD=$path "$t" 2>&1); fi
    rc=$?
    if [ "$rc" -eq 0 ]; then
      passed=$((passed + 1)); [ "$path" = default ] || ran[$path]=1
    elif [ "$rc" -eq 77 ]; then
      missing[$path]=1
    else
      failed=$((failed + 1))
      echo "FAILED: SIO_TEST_SIMD=$path $t"; echo "$out" | tail -40
    fi
  done
done
echo "unit: $passed passed, $failed failed"
echo "unit: paths run: ${!ran[*]}; not available here: ${!missing[*]}"
[ "$failed" -eq 0 ]
