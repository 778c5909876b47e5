"""The shim's CTest driver: runs a program on glibc and under a shim, and compares.

Three checks, one per subcommand:

  compare    SHIM NAME --min-allocations N [--env VAR=VALUE]... [--stdin FILE] -- PROGRAM ARG...
      Runs the program twice, on glibc and with LD_PRELOAD=SHIM and
      HEAPLAB_REPORT=1. Both runs must exit with 0 and print the same bytes
      (stdout, and stderr apart from the report line). The shim's run must
      print exactly one report line, for the shim NAME, showing at least N
      allocations served: without it, the preload silently failed and the
      comparison proved nothing.

  catalogue  SHIM NAME --expected FILE --min-allocations N -- CATALOGUE
      Runs the bad-input catalogue (catalogue.cpp) on glibc and under the
      shim. Every line "<call> -> <answer>" of the shim's run must equal
      glibc's line for the same call, except the calls listed in FILE: for
      those, the answer given there is a regular expression that the shim's
      answer must start with. Every misuse line must be listed in FILE
      (glibc's misuse messages are its own and are only shown). The report
      line is checked as for `compare`.

  ending     SHIM --stderr REGEX [--expect ENDING] [--timeout SECONDS] -- PROGRAM ARG...
      For programs that end by a signal or from a signal handler. Runs the
      program under the shim and, without --expect, on glibc first. The
      shim's run must end as glibc's did (the same exit code or signal, the
      same stdout), or as ENDING says ("exit code 42", "signal SIGABRT"),
      and the first line of its stderr must match REGEX: the shim's own
      line, which shows that the shim ran. A run that does not end in time
      is a failure, not a wait: these programs test that nothing hangs.

Exits with 0 when every check passes; otherwise prints what differs and
exits with 1. Python 3 standard library only.
"""
import argparse
import os
import re
import signal
import subprocess
import sys

REPORT = re.compile(r"^heaplab malloc \((?P<name>[^)]+)\): (?P<allocations>\d+) allocations served, "
                    r"(?P<frees>\d+) frees, peak heap (?P<peak>\d+) bytes, "
                    r"utilization (?P<utilization>\d+(?:\.\d+)?)%$")

# A run that takes longer than this has hung (a deadlock in the shim): better
# a clear message here than CTest's bare timeout.
RUN_TIMEOUT_SECONDS = 50


class CheckFailed(Exception):
    """One check did not hold; the message says which and shows the evidence."""


def parse_report(stderr_text):
    """The report lines of `stderr_text` (as match objects) and the other lines."""
    reports, others = [], []
    for line in stderr_text.splitlines(keepends=True):
        match = REPORT.match(line.rstrip("\n"))
        if match:
            reports.append(match)
        else:
            others.append(line)
    return reports, "".join(others)


def environment(extra, shim=None):
    """This process's environment with `extra` (VAR=VALUE strings), without
    any heaplab or preload setting inherited from the caller; with `shim`
    preloaded and its report requested when given."""
    env = {key: value for key, value in os.environ.items()
           if key != "LD_PRELOAD" and not key.startswith("HEAPLAB_")}
    for assignment in extra:
        key, _, value = assignment.partition("=")
        env[key] = value
    if shim is not None:
        env["LD_PRELOAD"] = shim
        env["HEAPLAB_REPORT"] = "1"
    return env


def run(command, env, stdin_path=None, timeout=RUN_TIMEOUT_SECONDS):
    """Runs `command` and returns (exit code, stdout bytes, stderr text)."""
    stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
    try:
        result = subprocess.run(command, env=env, stdin=stdin, capture_output=True,
                                timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise CheckFailed("`{}` did not finish in {} s: a deadlock?".format(
            " ".join(command), timeout)) from None
    finally:
        if stdin_path:
            stdin.close()
    return result.returncode, result.stdout, result.stderr.decode("utf-8", "replace")


def describe_exit(code):
    """'exit code 1' or 'signal SIGABRT' for a subprocess return code."""
    if code < 0:
        try:
            return "signal " + signal.Signals(-code).name
        except ValueError:
            return "signal {}".format(-code)
    return "exit code {}".format(code)


def last_lines(text, count=5):
    """The last `count` lines of `text`."""
    return "\n".join(text.splitlines()[-count:])


def first_difference(expected, actual):
    """The first line where two outputs differ, as a readable message."""
    expected_lines = expected.splitlines()
    actual_lines = actual.splitlines()
    for number, (want, got) in enumerate(zip(expected_lines, actual_lines), start=1):
        if want != got:
            return "line {}: glibc {!r}, shim {!r}".format(number, want, got)
    return "glibc printed {} lines, the shim {}".format(len(expected_lines), len(actual_lines))


def check_report(reports, name, min_allocations):
    """The one report line must name the shim and show at least
    `min_allocations` allocations served; returns it."""
    if not reports:
        raise CheckFailed("no report line on stderr: the preload did not take effect "
                          "(or the program did not exit normally), so nothing ran on the shim")
    if len(reports) != 1:
        raise CheckFailed("{} report lines instead of one:\n{}".format(
            len(reports), "\n".join(r.group(0) for r in reports)))
    report = reports[0]
    if report.group("name") != name:
        raise CheckFailed("the report names '{}', not '{}': {}".format(
            report.group("name"), name, report.group(0)))
    allocations = int(report.group("allocations"))
    if allocations < min_allocations:
        raise CheckFailed("only {} allocations served, below the floor of {} for this program: {}".format(
            allocations, min_allocations, report.group(0)))
    if int(report.group("peak")) == 0 or not 0 < float(report.group("utilization")) <= 100:
        raise CheckFailed("the report's heap figures are impossible: " + report.group(0))
    return report


def run_both(args):
    """Runs the program on glibc and under the shim; both must exit with 0.
    Returns ((stdout, stderr) on glibc, (stdout, stderr without report) on
    the shim, the shim's report lines)."""
    glibc_code, glibc_out, glibc_err = run(args.command, environment(args.env), args.stdin)
    if glibc_code != 0:
        raise CheckFailed("on glibc, `{}` ended with {}: the test itself is broken\n{}".format(
            " ".join(args.command), describe_exit(glibc_code), glibc_err))
    glibc_reports, _ = parse_report(glibc_err)
    if glibc_reports:
        raise CheckFailed("the glibc run printed a heaplab report: it was not on glibc")

    shim_code, shim_out, shim_err = run(args.command, environment(args.env, args.shim), args.stdin)
    reports, shim_err_rest = parse_report(shim_err)
    if shim_code != 0:
        raise CheckFailed("under {}, `{}` ended with {} (0 on glibc)\nstdout, last lines:\n{}\nstderr:\n{}".format(
            os.path.basename(args.shim), " ".join(args.command), describe_exit(shim_code),
            last_lines(shim_out.decode("utf-8", "replace")), shim_err))
    return (glibc_out, glibc_err), (shim_out, shim_err_rest), reports


def compare(args):
    """The `compare` subcommand."""
    (glibc_out, glibc_err), (shim_out, shim_err), reports = run_both(args)
    if shim_out != glibc_out:
        raise CheckFailed("stdout differs from glibc's: " + first_difference(
            glibc_out.decode("utf-8", "replace"), shim_out.decode("utf-8", "replace")))
    if shim_err != glibc_err:
        raise CheckFailed("stderr differs from glibc's: " + first_difference(glibc_err, shim_err))
    report = check_report(reports, args.name, args.min_allocations)
    print("{}: the same {} bytes of output as on glibc".format(os.path.basename(args.command[0]),
                                                               len(shim_out)))
    print(report.group(0))


def answers(output):
    """The catalogue's lines as an ordered dict: call -> answer."""
    table = {}
    for line in output.splitlines():
        call, arrow, answer = line.partition(" -> ")
        if not arrow:
            raise CheckFailed("the catalogue printed a line without ' -> ': {!r}".format(line))
        if call in table:
            raise CheckFailed("the catalogue printed the call {!r} twice".format(call))
        table[call] = answer
    return table


def read_expected(path):
    """The expected-answers file: call -> compiled regular expression for
    the start of the answer ('#' starts a comment line)."""
    expected = {}
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            call, arrow, answer = line.partition(" -> ")
            if not arrow:
                raise CheckFailed("{}:{}: expected '<call> -> <answer>'".format(path, number))
            try:
                expected[call] = re.compile(answer)
            except re.error as error:
                raise CheckFailed("{}:{}: {}".format(path, number, error)) from None
    return expected


def catalogue(args):
    """The `catalogue` subcommand."""
    (glibc_out, _), (shim_out, _), reports = run_both(args)
    glibc = answers(glibc_out.decode("utf-8"))
    shim = answers(shim_out.decode("utf-8"))
    expected = read_expected(args.expected)

    if list(glibc) != list(shim):
        raise CheckFailed("the two runs asked different questions: the catalogue itself is broken")
    missing = [call for call in expected if call not in shim]
    if missing:
        raise CheckFailed("{} lists calls the catalogue no longer makes: {}".format(
            os.path.basename(args.expected), missing))

    wrong = []
    for call, answer in shim.items():
        if call in expected:
            if not expected[call].match(answer):
                wrong.append("{}\n    expected {}\n    shim     {}".format(call, expected[call].pattern,
                                                                        answer))
        elif call.startswith("misuse: "):
            wrong.append("{}: no expected answer in {} (shim: {})".format(
                call, os.path.basename(args.expected), answer))
        elif answer != glibc[call]:
            wrong.append("{}\n    glibc {}\n    shim  {}".format(call, glibc[call], answer))
    if wrong:
        raise CheckFailed("{} of {} answers are wrong:\n  {}".format(len(wrong), len(shim),
                                                                   "\n  ".join(wrong)))
    report = check_report(reports, args.name, args.min_allocations)
    print("{} answers as expected ({} as on glibc, {} from {})".format(
        len(shim), len(shim) - len(expected), len(expected), os.path.basename(args.expected)))
    print("glibc's own misuse answers, for comparison:")
    for call, answer in glibc.items():
        if call.startswith("misuse: "):
            print("  {} -> {}".format(call, answer))
    print(report.group(0))


def ending(args):
    """The `ending` subcommand."""
    expected_out = None
    if args.expect:
        expected_end = args.expect
    else:
        glibc_code, expected_out, glibc_err = run(args.command, environment(args.env), args.stdin,
                                                  args.timeout)
        expected_end = describe_exit(glibc_code)
        if parse_report(glibc_err)[0]:
            raise CheckFailed("the glibc run printed a heaplab report: it was not on glibc")

    code, out, err = run(args.command, environment(args.env, args.shim), args.stdin, args.timeout)
    name = os.path.basename(args.shim)
    end = describe_exit(code)
    if end != expected_end:
        raise CheckFailed("under {}, `{}` ended with {}, not {}\nstderr:\n{}".format(
            name, " ".join(args.command), end, expected_end, err))
    if expected_out is not None and out != expected_out:
        raise CheckFailed("stdout differs from glibc's: " + first_difference(
            expected_out.decode("utf-8", "replace"), out.decode("utf-8", "replace")))
    first_line = err.split("\n", 1)[0]
    if not re.match(args.stderr, first_line):
        raise CheckFailed("the first line on stderr under {} does not match {!r}: {!r}".format(
            name, args.stderr, first_line))
    print("{}: ended with {}{}".format(os.path.basename(args.command[0]), end,
                                       "" if args.expect else ", as on glibc"))
    print(first_line)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="check", required=True)
    for name, helptext in (("compare", "a program's output on glibc and on the shim"),
                           ("catalogue", "the bad-input catalogue's answers"),
                           ("ending", "how a program ends under the shim")):
        sub = commands.add_parser(name, help=helptext)
        sub.add_argument("shim", help="the shim library to preload")
        if name == "ending":
            sub.add_argument("--stderr", required=True, metavar="REGEX",
                             help="what the first line on stderr must match")
            sub.add_argument("--expect", metavar="ENDING",
                             help="the ending, e.g. 'signal SIGABRT' (default: glibc's)")
            sub.add_argument("--timeout", type=float, default=RUN_TIMEOUT_SECONDS,
                             help="seconds after which a run counts as hung")
        else:
            sub.add_argument("name", help="the shim's name in its report line, e.g. quick-fit")
            sub.add_argument("--min-allocations", type=int, required=True,
                             help="the fewest allocations the report may show")
        sub.add_argument("--env", action="append", default=[], metavar="VAR=VALUE",
                         help="an environment variable for both runs")
        sub.add_argument("--stdin", help="a file to feed to the program's standard input")
        if name == "catalogue":
            sub.add_argument("--expected", required=True,
                             help="the answers where this shim differs from glibc")
        sub.add_argument("command", nargs="+", help="the program and its arguments (after --)")
    args = parser.parse_args()
    try:
        {"compare": compare, "catalogue": catalogue, "ending": ending}[args.check](args)
    except CheckFailed as failure:
        print("FAILED: {}".format(failure), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
