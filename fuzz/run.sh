#!/usr/bin/env bash
# Builds cfinv's fuzz targets with libFuzzer on the STABLE toolchain (no cargo-fuzz, no nightly:
# plain `cargo build` with the SanitizerCoverage flags libFuzzer needs; its C++ runtime is built by
# the `cc` crate with g++), then runs each target for a bounded time.
#
#   fuzz/run.sh [--seconds N] [--seed N] [--no-save] [--build-only] [TARGET...]  (no TARGET: all)
#
# Each target starts from its committed seeds (fuzz/corpus/TARGET) plus what earlier runs found
# (fuzz/target/corpus/TARGET, where new inputs go; --no-save, as in `make test`, leaves it as it
# is), with the token dictionary fuzz/cfinv.dict. `rm -rf fuzz/target/corpus` starts over.
# --seed N fixes libFuzzer's random seed (default: a new one each run), so `make test` walks the
# same inputs on every run and a red CI is a regression, not the luck of the draw; `make fuzz`
# explores.
# A crash (any panic, an abort such as a failed allocation), a timeout (one input over
# FUZZ_TIMEOUT seconds, default 10) or running out of memory (FUZZ_RSS_MB, default 2048) stops the
# target, leaves the input in fuzz/artifacts/TARGET/ and makes the script exit non-zero (after
# running the other targets). Leaks are not detected: that needs LeakSanitizer, which stable Rust
# does not offer. Prints one line per target: runs, executions per second, coverage.
#
# Reproduce a crash:  fuzz/target/x86_64-unknown-linux-gnu/release/TARGET fuzz/artifacts/TARGET/crash-...
# (the host triple may differ).
set -euo pipefail
script=$0

# All in a function, so bash has read the whole script before it runs any of it.
main() {
  fuzz_dir=$(cd "$(dirname "$script")" && pwd)
  all_targets=(events_json events_value distributions cache_policies distribution_tags error_file set_file queue_message state_payloads plan)
  seconds=60
  build_only=0
  save=1
  seed=0
  targets=()
  while [ $# -gt 0 ]; do
    case "$1" in
      --seconds) seconds=${2:?--seconds needs a number}; shift 2 ;;
      --seconds=*) seconds=${1#--seconds=}; shift ;;
      --seed) seed=${2:?--seed needs a number}; shift 2 ;;
      --seed=*) seed=${1#--seed=}; shift ;;
      --build-only) build_only=1; shift ;;
      --no-save) save=0; shift ;;
      -h|--help) sed -n '2,22p' "$script" | sed 's/^# \{0,1\}//'; exit 0 ;;
      -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
      *) targets+=("$1"); shift ;;
    esac
  done
  [ ${#targets[@]} -gt 0 ] || targets=("${all_targets[@]}")
  for t in "${targets[@]}"; do
    [[ " ${all_targets[*]} " == *" $t "* ]] || { echo "run.sh: no target $t (targets: ${all_targets[*]})" >&2; exit 2; }
  done
  [[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --seconds wants a positive whole number, not $seconds" >&2; exit 2; }
  [[ "$seed" =~ ^[0-9]+$ ]] || { echo "run.sh: --seed wants a whole number, not $seed" >&2; exit 2; }

  # libFuzzer's runtime is C++, compiled once by the `cc` crate: it needs g++ (or $CXX), not clang.
  if ! command -v "${CXX:-c++}" >/dev/null && ! command -v g++ >/dev/null; then
    echo "run.sh: libFuzzer's runtime needs a C++ compiler: install g++ (or set CXX)" >&2
    exit 2
  fi

  # The host triple, given explicitly so RUSTFLAGS reach only the code under test, not build scripts
  # and proc-macros.
  host=$(rustc -vV | sed -n 's/^host: //p')
  export CARGO_TARGET_DIR="$fuzz_dir/target"
  export RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing"
  bins=()
  for t in "${targets[@]}"; do bins+=(--bin "$t"); done
  start=$(date +%s)
  (cd "$fuzz_dir" && nice -n 10 cargo build --quiet --release --target "$host" "${bins[@]}")
  echo "fuzz: built ${#targets[@]} target(s) in $(($(date +%s) - start)) s"
  [ "$build_only" = 0 ] || exit 0

  bin_dir="$CARGO_TARGET_DIR/$host/release"
  failed=()
  for t in "${targets[@]}"; do
    work="$CARGO_TARGET_DIR/corpus/$t"
    artifacts="$fuzz_dir/artifacts/$t"
    log="$CARGO_TARGET_DIR/logs/$t.log"
    mkdir -p "$work" "$artifacts" "$(dirname "$log")"
    # libFuzzer writes new inputs to the first directory.
    dirs=("$work" "$fuzz_dir/corpus/$t")
    if [ "$save" = 0 ]; then
      scratch=$(mktemp -d)
      dirs=("$scratch" "${dirs[@]}")
    fi
    status=0
    nice -n 10 "$bin_dir/$t" "${dirs[@]}" \
      -dict="$fuzz_dir/cfinv.dict" -seed="$seed" -max_total_time="$seconds" -timeout="${FUZZ_TIMEOUT:-10}" \
      -rss_limit_mb="${FUZZ_RSS_MB:-2048}" -artifact_prefix="$artifacts/" -print_final_stats=1 \
      >"$log" 2>&1 || status=$?
    [ "$save" = 1 ] || rm -rf "$scratch"
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    cov=$(grep -a -Eo 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+' "$log" | tail -n 1 || true)
    if [ "$status" = 0 ]; then
      printf 'fuzz: %-18s ok     %10s runs in %ss, %6s/s, %s\n' "$t" "${runs:-?}" "$seconds" "${speed:-?}" "${cov:-cov: ?}"
    else
      printf 'fuzz: %-18s FAILED (exit %s) after %s runs; log %s\n' "$t" "$status" "${runs:-?}" "$log"
      { grep -a -E -A1 "panicked at" "$log" | head -n 4
        grep -a -E "ERROR: libFuzzer|Test unit written|^Base64" "$log"; } | sed 's/^/    /' || true
      failed+=("$t")
    fi
  done
  if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}; inputs in $fuzz_dir/artifacts/" >&2
    exit 1
  fi
}

main "$@"
