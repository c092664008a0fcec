#!/usr/bin/env python3
"""Wall time of warm runner invocations: `runner lab NN` for each lab given,
and `runner check` with and without the sandbox.

Usage: python3 bench/warm-runs.py [--runs N] [LAB ...]
Builds the release runner first, then warms every lab once, then times
N runs of each command and prints min / median / mean / max in ms.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "target", "release", "runner")


def timed(command, runs):
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        samples.append((time.perf_counter() - started) * 1000)
        if result.returncode != 0:
            sys.exit(f"{' '.join(command)} failed:\n{result.stderr.decode()}")
    return samples


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("labs", nargs="*", default=["01", "02"])
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "runner"], cwd=ROOT, check=True)
    subprocess.run([RUNNER, "check"], cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    cases = [(f"runner lab {lab}", [RUNNER, "lab", lab, "-q"]) for lab in args.labs]
    cases += [
        ("runner check (sandbox)", [RUNNER, "check", "--isolation", "sandbox"]),
        ("runner check (host)", [RUNNER, "check", "--isolation", "host"]),
    ]
    print(f"{'command':<28} {'runs':>4} {'min':>8} {'median':>8} {'mean':>8} {'max':>8}  (ms, {os.cpu_count()} cores)")
    for name, command in cases:
        samples = timed(command, args.runs)
        print(
            f"{name:<28} {len(samples):>4} {min(samples):>8.1f} {statistics.median(samples):>8.1f}"
            f" {statistics.mean(samples):>8.1f} {max(samples):>8.1f}"
        )


if __name__ == "__main__":
    main()
