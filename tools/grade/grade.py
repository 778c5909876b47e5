#!/usr/bin/env python3
"""The course's grader: runs the course's own tests on an allocator, one test
case per process, and reports like a marker would.

    grade.py --title TITLE --tests EXE [--tests EXE ...]
             [--lab HEAPLAB --allocators REF,NAME[,...] --traces DIR]
             [--timeout SECONDS] [--jobs N] [--skeleton]

Every test case of every EXE (a doctest program made by
heaplab_add_allocator(): the contract suite, the bad-input catalogue, the
model test and the chapter's own checks) runs alone, so that one crash, one
hang or one step not written yet costs that case only. Each case ends as
one of:

    passed            the case passed;
    not written yet   it reached a step of the skeleton that is still
                      HEAPLAB_NOT_WRITTEN_YET (exit code 3 and that line);
    failed            an assertion failed: the report shows doctest's
                      account of it (which check, the seed and operation,
                      the picture of the heap);
    crashed           it died of a signal (the signal is named);
    hung              it ran past --timeout seconds and was stopped.

Then, once every case passes, the lab replays the shipped traces on the
learner's allocator beside the course's own (`heaplab compare`), and the
report ends with its summary: utilization and speed next to the
reference and to glibc.

Exit status: 0 when every case passed (and the lab completed); 1
otherwise; 2 when the grader itself cannot run (a program missing). With
--skeleton, the grader checks an untouched skeleton instead: 0 when every
case passed or said "not written yet", and none failed, crashed or hung.
"""

import argparse
import concurrent.futures
import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass, field

#: The exit code of HEAPLAB_NOT_WRITTEN_YET (stage1_static_bump/your_turn.hpp).
NOT_WRITTEN_YET_EXIT = 3
#: The line it prints.
NOT_WRITTEN_YET = re.compile(r"^not written yet: .*$", re.MULTILINE)
#: doctest's count of the test cases it ran.
DOCTEST_RAN = re.compile(r"^\[doctest\] test cases: +(\d+)", re.MULTILINE)
#: The most lines of one failure the report quotes.
FAILURE_LINES = 40
#: The outcomes, in the order the report lists them.
OUTCOMES = ("passed", "not written yet", "failed", "crashed", "hung")


@dataclass
class Case:
    """One test case of one program, and how it ended."""

    program: str
    suite: str
    name: str
    outcome: str = ""
    details: str = ""
    unwritten: list = field(default_factory=list)


def fail(message):
    """Ends the grader with a one-line message and status 2."""
    print(f"grade: {message}", file=sys.stderr)
    sys.exit(2)


def doctest_lines(program, *options):
    """The names doctest lists with `options`, one per line."""
    try:
        listing = subprocess.run([program, *options, "--no-version"], capture_output=True,
                                 text=True, check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as error:
        fail(f"cannot list the tests of {program}: {error}")
    return [line for line in listing.splitlines()
            if line and not line.startswith("[doctest]") and not line.startswith("=====")]


def cases_of(program):
    """Every test case of `program`, with its doctest suite."""
    cases = []
    for suite in doctest_lines(program, "--list-test-suites"):
        for name in doctest_lines(program, "--list-test-cases", f"--test-suite={suite}"):
            cases.append(Case(program, suite, name))
    return cases


def essential(output):
    """The lines of doctest's output that say what failed: the checks, their
    values and messages, without the banner and the totals."""
    kept = [line for line in output.splitlines()
            if line.strip() and not line.startswith("[doctest]") and not line.startswith("=====")]
    if len(kept) > FAILURE_LINES:
        kept = kept[:FAILURE_LINES] + [f"... ({len(kept) - FAILURE_LINES} more lines)"]
    return "\n".join(kept)


def run_case(case, timeout):
    """Runs `case` alone and records how it ended."""
    # doctest reads commas in a filter as "or", and * and ? as wildcards;
    # the course's test names have no commas, and a name matches itself.
    command = [case.program, f"--test-case={case.name}", f"--test-suite={case.suite}", "--no-version"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        case.outcome, case.details = "hung", f"still running after {timeout} s: stopped"
        return case
    output = done.stdout + done.stderr
    case.unwritten = NOT_WRITTEN_YET.findall(done.stderr)
    ran = DOCTEST_RAN.search(done.stdout)
    if done.returncode == 0 and ran and int(ran.group(1)) == 0:
        # A name the filter cannot match (doctest reads a comma as "or")
        # runs nothing and "passes": that is the grader's failure, not a pass.
        case.outcome, case.details = "failed", "the grader's filter matched no test case: " + command[1]
    elif done.returncode == 0:
        case.outcome = "passed"
    elif done.returncode == NOT_WRITTEN_YET_EXIT and case.unwritten:
        case.outcome = "not written yet"
    elif done.returncode < 0:
        name = signal.Signals(-done.returncode).name
        case.outcome, case.details = "crashed", f"killed by {name}\n{essential(output)}"
    else:
        case.outcome, case.details = "failed", essential(output)
    return case


def tally(cases):
    """Outcome counts per suite, in first-seen suite order."""
    table = {}
    for case in cases:
        table.setdefault(case.suite, dict.fromkeys(OUTCOMES, 0))[case.outcome] += 1
    return table


def print_tally(cases):
    """The table of outcomes per suite, and the total."""
    table = tally(cases)
    width = max([len("suite")] + [len(suite) for suite in table])
    print(f"  {'suite':<{width}}  " + "  ".join(f"{outcome:>15}" for outcome in OUTCOMES))
    for suite, counts in table.items():
        print(f"  {suite:<{width}}  " + "  ".join(f"{counts[o]:>15}" for o in OUTCOMES))
    total = len(cases)
    passed = sum(case.outcome == "passed" for case in cases)
    print(f"  {passed} of {total} test cases passed")


def print_unwritten(cases):
    """Each step not written yet, once, with how many cases reached it."""
    reached = {}
    for case in cases:
        for line in case.unwritten:
            reached[line] = reached.get(line, 0) + 1
    if not reached:
        return
    print("\nSteps not written yet (write them in this order of the chapter):")
    for line, count in reached.items():
        print(f"  {line.removeprefix('not written yet: ')}  -- reached by {count} test case(s)")


def print_problems(cases):
    """The first problem in full, then one line for each of the others."""
    problems = [case for case in cases if case.outcome in ("failed", "crashed", "hung")]
    if not problems:
        return
    first = problems[0]
    print(f"\nFirst problem: [{first.suite}] {first.name}: {first.outcome}")
    print("\n".join("  " + line for line in first.details.splitlines()))
    replay = f"{shlex.quote(first.program)} --test-case={shlex.quote(first.name)}"
    print(f"  run it alone: {replay}")
    if len(problems) > 1:
        print(f"\nThe other {len(problems) - 1}:")
        for case in problems[1:]:
            headline = case.details.splitlines()[0] if case.details else ""
            print(f"  [{case.suite}] {case.name}: {case.outcome}" + (f" ({headline})" if case.outcome != "failed" else ""))


def lab_summary(arguments):
    """Runs `heaplab compare` on the shipped traces and prints its summary."""
    traces = sorted(os.path.join(arguments.traces, name) for name in os.listdir(arguments.traces)
                    if name.endswith(".rep"))
    command = [arguments.lab, "compare", "--repeat", "3", "--allocators", arguments.allocators, *traces]
    print(f"\nThe lab: {os.path.basename(arguments.lab)} compare --allocators {arguments.allocators} "
          f"{arguments.traces}/*.rep")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=arguments.timeout * 10)
    except (OSError, subprocess.SubprocessError) as error:
        print(f"  the lab did not run: {error}")
        return False
    summary = done.stdout.split("Summary over", 1)
    shown = ("Summary over" + summary[1].split("\nLegend", 1)[0]) if len(summary) == 2 else done.stdout
    print("\n".join("  " + line for line in shown.rstrip().splitlines()))
    if done.stderr.strip():
        print("\n".join("  " + line for line in done.stderr.strip().splitlines()))
    return done.returncode == 0


def main():
    parser = argparse.ArgumentParser(description="Grade an allocator with the course's own tests and lab.")
    parser.add_argument("--title", required=True, help="what is graded, for the report's first line")
    parser.add_argument("--tests", action="append", required=True, help="a doctest program (repeatable)")
    parser.add_argument("--lab", help="the heaplab program that knows the allocator")
    parser.add_argument("--allocators", help="the lab names to compare, the course's first")
    parser.add_argument("--traces", help="the folder of .rep traces the lab replays")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per test case (default 120)")
    parser.add_argument("--jobs", type=int, default=2, help="test cases run at once (default 2)")
    parser.add_argument("--skeleton", action="store_true",
                        help="check an untouched skeleton: every case passes or says not written yet")
    arguments = parser.parse_args()
    for program in arguments.tests + ([arguments.lab] if arguments.lab else []):
        if not os.access(program, os.X_OK):
            fail(f"{program}: no such program (build it first)")

    cases = [case for program in arguments.tests for case in cases_of(program)]
    if not cases:
        fail("no test cases to run")
    print(f"Grading {arguments.title}: {len(cases)} test cases of the course, each in its own process\n")
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, arguments.jobs)) as pool:
        cases = list(pool.map(lambda case: run_case(case, arguments.timeout), cases))
    print_tally(cases)
    print_unwritten(cases)
    print_problems(cases)

    broken = sum(case.outcome in ("failed", "crashed", "hung") for case in cases)
    if arguments.skeleton:
        print("\nSkeleton check: " + ("every case passed or said not written yet" if broken == 0
                                      else f"{broken} case(s) failed, crashed or hung"))
        return 0 if broken == 0 else 1
    if any(case.outcome != "passed" for case in cases):
        print("\nThe lab runs once every test case passes.")
        return 1
    if arguments.lab:
        return 0 if lab_summary(arguments) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
