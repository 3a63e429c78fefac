#!/usr/bin/env python3
"""Prints criterion results as Markdown tables: the median of each benchmark and its ratio to
the first benchmark named as the group's reference.

    python3 bench/criterion_table.py [GROUP_PREFIX ...] [--ref NAME ...]

Reads target/criterion/<group>/<bench>/new/estimates.json (CARGO_TARGET_DIR is honoured).
With --ref, the first of the given names found in a group is its reference (default: the
first benchmark in criterion's own order, i.e. alphabetical).
"""
import json
import os
import sys


def fmt(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.2f} µs"
    return f"{ns:.1f} ns"


def main(argv):
    refs, prefixes = [], []
    it = iter(argv)
    for arg in it:
        if arg == "--ref":
            refs.append(next(it))
        else:
            prefixes.append(arg)
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    root = os.path.join(target, "criterion")
    for group in sorted(os.listdir(root)):
        if group == "report" or (prefixes and not any(group.startswith(p) for p in prefixes)):
            continue
        medians = {}
        for bench in sorted(os.listdir(os.path.join(root, group))):
            path = os.path.join(root, group, bench, "new", "estimates.json")
            if os.path.exists(path):
                with open(path) as f:
                    medians[bench] = json.load(f)["median"]["point_estimate"]
        if not medians:
            continue
        ref = next((r for r in refs if r in medians), next(iter(medians)))
        print(f"\n**{group}** (ratio to `{ref}`)\n")
        print("| benchmark | median | ratio |")
        print("|---|---:|---:|")
        for bench, ns in medians.items():
            print(f"| {bench} | {fmt(ns)} | {ns / medians[ref]:.2f}x |")


if __name__ == "__main__":
    main(sys.argv[1:])
