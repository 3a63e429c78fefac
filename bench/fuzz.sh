#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for SECONDS each (default 60), on the nightly toolchain
# with cargo-fuzz (libFuzzer, AddressSanitizer), starting from the seed corpora in
# fuzz/corpus/<target>. New inputs go to a corpus under the target directory, never into the
# repository; a crash leaves its input in fuzz/artifacts/<target>/ and fails the script.
#
#   bench/fuzz.sh 360        # six minutes each: the 30-minute run of BENCHMARKS.md
#   bench/fuzz.sh 30 cookie_parser
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(token_verify header_walk claims_fast_path cookie_parser policy_expression)

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi
cargo +nightly --version >/dev/null || { echo "FATAL: the nightly toolchain is needed (rustup toolchain install nightly)" >&2; exit 1; }

export CARGO_TARGET_DIR="${FUZZ_TARGET_DIR:-$HOME/.cache/auth-fuzz-target}"
work="$CARGO_TARGET_DIR/corpus"
cd fuzz
# Built once, then the binaries run as built: editing the sources while a long run goes on
# changes nothing under it (`cargo fuzz run` would rebuild first).
cargo +nightly fuzz build
bin="$CARGO_TARGET_DIR/$(rustc -vV | sed -n 's/^host: //p')/release"
mkdir -p artifacts
status=0
for target in "${targets[@]}"; do
    mkdir -p "$work/$target" "artifacts/$target"
    echo "== $target: ${seconds}s"
    if ! "$bin/$target" "$work/$target" "corpus/$target" -artifact_prefix="artifacts/$target/" \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 2>"$work/$target.log"; then
        status=1
        echo "FAILED: $target (input in fuzz/artifacts/$target/)"
        grep -E "panicked|ERROR|SUMMARY" "$work/$target.log" | head -n 5 || true
    fi
    # The last status line: executions, coverage, corpus size.
    grep -E "^#[0-9]+" "$work/$target.log" | tail -n 1 || true
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$work/$target.log" || true
done
exit "$status"
