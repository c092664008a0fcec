#!/usr/bin/env python3
"""Wall time of `runner grade` per submission (all labs): N copies of a
submission made of the reference programs, graded with -j JOBS.

Usage: python3 bench/grade.py [--submissions N] [--jobs J]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNNER = os.path.join(ROOT, "target", "release", "runner")


def party_binaries():
    """Every party's program name, from each lab's lab.toml."""
    import tomllib

    names = set()
    labs = os.path.join(ROOT, "labs")
    for lab in sorted(os.listdir(labs)):
        path = os.path.join(labs, lab, "lab.toml")
        if os.path.isfile(path):
            with open(path, "rb") as file:
                names.update(party["bin"] for party in tomllib.load(file)["parties"].values() if "bin" in party)
    return sorted(names)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--submissions", type=int, default=4)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "runner"], cwd=ROOT, check=True)
    subprocess.run([RUNNER, "check"], cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    with tempfile.TemporaryDirectory() as scratch:
        submissions = os.path.join(scratch, "submissions")
        for index in range(args.submissions):
            folder = os.path.join(submissions, f"student{index:02}")
            os.makedirs(folder)
            for name in party_binaries():
                shutil.copy2(os.path.join(ROOT, "target", "release", name), folder)
        started = time.perf_counter()
        result = subprocess.run(
            [RUNNER, "grade", submissions, "--results", os.path.join(scratch, "results"), "--format", "json",
             "-j", str(args.jobs)],
            cwd=ROOT, capture_output=True,
        )
        seconds = time.perf_counter() - started
        if result.returncode != 0:
            sys.exit(result.stderr.decode())
        grade = json.loads(result.stdout)
        scores = {s["student"]: f"{s['score']}/{s['max_score']}" for s in grade["submissions"]}
        print(f"{args.submissions} submissions, -j {args.jobs}, {os.cpu_count()} cores: {seconds:.2f} s in all, "
              f"{seconds / args.submissions:.2f} s a submission (all labs)")
        print("scores:", scores)


if __name__ == "__main__":
    main()
