#!/usr/bin/env python3
"""Counts the instructions per malloc + free pair of each malloc, preloaded as a user runs it.

Runs bench/preload_pairs (preload_pairs.cpp says what it counts: LIFO pairs
of 16 and 64 bytes, and batches of 1000 mallocs then 1000 frees of 16 and
64 bytes) under Valgrind's callgrind, once on glibc and once with each
malloc preloaded: the course's shims (LD_PRELOAD of
tools/shim/libheaplab-malloc-<name>.so) and the production mallocs
installed (mimalloc, jemalloc, tcmalloc, as measure_real_programs.py finds
them). Unlike a time, a count does not move with the machine's load.

Prints two Markdown tables: the instructions per pair of each malloc and
scenario, and their ratio to glibc's. A shim's run must end with its exit
report showing at least the pairs it was given, or the count would not be
the shim's. Exits with 1 when a run fails or a count is missing or not
positive; a count is a measurement, never judged against a target.

    cmake --preset release
    cmake --build --preset release --target preload_pairs heaplab_malloc_quick_fit
    python3 tools/shim/measure_pair_instructions.py build/release

Python 3 standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import measure_real_programs as real  # noqa: E402  (how contenders are found)

SCENARIOS = ["lifo16", "lifo64", "batch16", "batch64"]
HEADINGS = {"lifo16": "LIFO 16 B", "lifo64": "LIFO 64 B", "batch16": "1000 then 1000, 16 B",
            "batch64": "1000 then 1000, 64 B"}
TRIGGER = re.compile(r"^desc: Trigger: Client Request: (\S+)$", re.MULTILINE)
TOTALS = re.compile(r"^(?:totals|summary): (\d+)", re.MULTILINE)


class CountFailed(Exception):
    """A run under callgrind failed, or its counts are missing."""


def environment(contender):
    """The caller's environment without preload or heaplab settings, with
    the contender's preload (and, for a course shim, its exit report)."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD" and not k.startswith("HEAPLAB_")}
    if contender.library is not None:
        env["LD_PRELOAD"] = contender.library
    if contender.kind == "shim":
        env["HEAPLAB_REPORT"] = "1"
    return env


def parse_parts(work_dir):
    """The instruction count of each scenario's part of callgrind's output
    in `work_dir` (the file callgrind.out.<n> that CALLGRIND_DUMP_STATS_AT
    wrote, named by its trigger line)."""
    counts = {}
    for part in os.listdir(work_dir):
        if not part.startswith("callgrind.out."):
            continue
        with open(os.path.join(work_dir, part), encoding="utf-8", errors="replace") as data:
            text = data.read()
        trigger, totals = TRIGGER.search(text), TOTALS.search(text)
        if trigger and totals and trigger.group(1) in SCENARIOS:
            counts[trigger.group(1)] = int(totals.group(1))
    return counts


def check_served(contender, stderr, pairs):
    """A course shim's run must end with its report showing every pair of
    every scenario, the uncounted warm-ups aside, served by it."""
    reports, _ = real.check_shim.parse_report(stderr)
    reports = [r for r in reports if r.group("name") == contender.name]
    if len(reports) != 1 or int(reports[0].group("allocations")) < pairs * len(SCENARIOS):
        raise CountFailed("{}: no exit report showing {} allocations served: the preload failed\n{}".format(
            contender.name, pairs * len(SCENARIOS), stderr[-2000:]))


def count(valgrind, program, contender, pairs):
    """Runs `program` under callgrind with `contender` preloaded and returns
    {scenario: instructions per pair}."""
    with tempfile.TemporaryDirectory(prefix="heaplab-pairs-") as work_dir:
        command = [valgrind, "--tool=callgrind", "--collect-atstart=no",
                   "--callgrind-out-file=" + os.path.join(work_dir, "callgrind.out"), program, str(pairs)]
        result = subprocess.run(command, env=environment(contender), capture_output=True, text=True,
                                errors="replace", check=False)
        if result.returncode != 0:
            raise CountFailed("{}: callgrind ended with {}\n{}".format(
                contender.name, result.returncode, result.stderr[-2000:]))
        if contender.kind == "shim":
            check_served(contender, result.stderr, pairs)
        counts = parse_parts(work_dir)
    missing = [s for s in SCENARIOS if counts.get(s, 0) <= 0]
    if missing:
        raise CountFailed("{}: callgrind wrote no positive count for {}".format(contender.name, ", ".join(missing)))
    return {scenario: counts[scenario] / pairs for scenario in SCENARIOS}


def table(title, rows, cell):
    """A Markdown table: a row per contender, a column per scenario."""
    lines = ["", title, "", "| malloc | " + " | ".join(HEADINGS[s] for s in SCENARIOS) + " |",
             "|---|" + "---:|" * len(SCENARIOS)]
    for name, per_pair in rows:
        lines.append("| {} | {} |".format(name, " | ".join(cell(name, s, per_pair[s]) for s in SCENARIOS)))
    return "\n".join(lines)


def parse_arguments():
    """The command line; exits with a one-line message on a bad one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", help="the build tree that holds bench/preload_pairs and the shims")
    parser.add_argument("--shims", help="comma-separated course shims (default quick-fit, and two-level-fit "
                                        "and paged when built)")
    parser.add_argument("--production", action=argparse.BooleanOptionalAction, default=None,
                        help="count mimalloc, jemalloc and tcmalloc too (default: those installed)")
    parser.add_argument("--pairs", type=int, default=100_000,
                        help="pairs per scenario, a positive multiple of 1000 (default 100000)")
    parser.add_argument("--valgrind", default=shutil.which("valgrind"), help="valgrind (default: on PATH)")
    args = parser.parse_args()
    if args.pairs <= 0 or args.pairs % 1000 != 0:
        parser.error("--pairs must be a positive multiple of 1000 (a batch is 1000 blocks)")
    if not args.valgrind:
        parser.error("valgrind not found: install it with the README's apt-get line")
    return args


def main():
    args = parse_arguments()
    build_dir = os.path.abspath(args.build_dir)
    program = os.path.join(build_dir, "bench", "preload_pairs")
    if not os.path.exists(program):
        sys.exit("{} not found: build the target preload_pairs first (see --help)".format(program))
    contenders = [real.Contender("glibc", "glibc")] + real.shim_contenders(build_dir, args.shims) + \
        real.production_contenders(args.production)
    rows = []
    try:
        for contender in contenders:
            rows.append((contender.name, count(args.valgrind, program, contender, args.pairs)))
    except CountFailed as failure:
        sys.exit("measure_pair_instructions: {}".format(failure))
    glibc = rows[0][1]
    print(table("Instructions per malloc + free pair:", rows, lambda name, s, value: "{:.1f}".format(value)))
    print(table("Relative to glibc's:", rows, lambda name, s, value: "{:.2f}".format(value / glibc[s])))
    print()
    print("{} pairs per scenario, counted by callgrind ({}); {}.".format(
        args.pairs, subprocess.run([args.valgrind, "--version"], capture_output=True, text=True,
                                   check=False).stdout.strip(), os.confstr("CS_GNU_LIBC_VERSION")))


if __name__ == "__main__":
    main()
