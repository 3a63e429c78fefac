#!/usr/bin/env python3
"""Instruction-count regression gate for the hot paths.

Builds `tests/benches/hot_paths.rs` (bench profile), runs each path under
`valgrind --tool=callgrind`, counting only the `measure_*` function (set-up excluded), and
compares instructions per call with the committed baseline `bench/instructions-baseline.json`.
Fails (exit 1) when a path needs more than 10% more instructions than its baseline.

    python3 bench/instructions.py            # compare with the baseline
    python3 bench/instructions.py --update   # write the current counts as the new baseline

Instruction counts do not move with the machine's load, so this gate is stable where a timed
one would not be. They do move with the compiler, the dependency versions (Cargo.lock) and
the CPU features the code selects at run time: aws-lc is pinned to its portable code with
OPENSSL_ia32cap so that the counts do not depend on the CPU. (RustCrypto's SHA-1 under
totp-rs picks its code by CPUID as valgrind reports it: a baseline taken on a machine
of another kind may need `--update`.)
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASELINE = os.path.join(ROOT, "bench", "instructions-baseline.json")
TOLERANCE = 1.10
# Ratios in instructions: (name, numerator, denominator, the target or None).
RATIOS = [
    ("verify / raw HMAC floor", "verify_hs256", "verify_hs256_floor", 3.0),
    ("verify from the cache / raw HMAC floor", "verify_hs256_cached", "verify_hs256_floor", 1.0),
    ("macro guard / hand-written extractor", "handler_macro_guard", "handler_hand_written", 1.05),
    ("macro guard / bare handler", "handler_macro_guard", "handler_bare", 3.0),
    # No target: what the guard's features (cookie sessions, one verification per request
    # however many extractors ask, role grants) cost over a bearer-only direct-grant check.
    ("macro guard / minimal hand-written extractor", "handler_macro_guard",
     "handler_hand_written_minimal", None),
]


def executable():
    out = subprocess.run(
        ["cargo", "bench", "-p", "tests", "--bench", "hot_paths", "--no-run",
         "--message-format=json"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") == "compiler-artifact" and msg["target"]["name"] == "hot_paths" \
                and msg.get("executable"):
            return msg["executable"]
    sys.exit("hot_paths executable not found")


def count(exe, path, iterations):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "callgrind.out")
        env = dict(os.environ, OPENSSL_ia32cap="0:0")
        subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             "--toggle-collect=*hot_paths::measure_*", exe, path],
            check=True, capture_output=True, env=env,
        )
        with open(out) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    return int(line.split()[1]) / iterations
    sys.exit(f"no totals in callgrind output for {path}")


def main():
    update = "--update" in sys.argv
    exe = executable()
    paths = subprocess.run([exe, "--list"], check=True, capture_output=True,
                           text=True).stdout.split()
    iterations = int(subprocess.run([exe, "--iterations"], check=True, capture_output=True,
                                    text=True).stdout)
    counts = {path: count(exe, path, iterations) for path in paths}
    baseline = {}
    if os.path.exists(BASELINE):
        with open(BASELINE) as f:
            baseline = json.load(f)
    failed = []
    print("| path | instructions per call | baseline | change |")
    print("|---|---:|---:|---:|")
    for path, now in counts.items():
        base = baseline.get(path)
        change = f"{(now / base - 1) * 100:+.1f}%" if base else "new"
        print(f"| {path} | {now:,.0f} | {f'{base:,.0f}' if base else '-'} | {change} |")
        if base and now > base * TOLERANCE:
            failed.append(path)
    print()
    for name, num, den, target in RATIOS:
        ratio = counts[num] / counts[den]
        print(f"{name}: {ratio:.2f}x" + (f" (target <= {target}x)" if target else ""))
    if update:
        with open(BASELINE, "w") as f:
            json.dump({p: round(c) for p, c in counts.items()}, f, indent=2)
            f.write("\n")
        print(f"\nbaseline written to {os.path.relpath(BASELINE, ROOT)}")
        return
    if failed:
        sys.exit(f"\ninstruction count regressed more than 10% on: {', '.join(failed)}")
    if not baseline:
        sys.exit("no baseline: run with --update and commit bench/instructions-baseline.json")


if __name__ == "__main__":
    main()
