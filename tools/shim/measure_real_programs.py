#!/usr/bin/env python3
"""Measures real programs on glibc's malloc, the course's shims and production mallocs.

Runs each workload several times, alternating glibc, each course shim
(LD_PRELOAD of tools/shim/libheaplab-malloc-<name>.so) and each production
malloc installed (LD_PRELOAD of Debian's libmimalloc2.0, libjemalloc2 and
libtcmalloc-minimal4, found by path), so that a slow moment of the machine
hits every configuration alike. The workloads:

  python3        alloc_heavy.py with PYTHONMALLOC=malloc (the shim's test);
  python3-big    live_heap.py: python3 holding about 2.6 GB of small objects
                 (2350 MiB as Python counts them, more with malloc's own
                 rounding; the course's shims get HEAPLAB_HEAP_SIZE=4G: see
                 --shim-env);
  sort           200 000 generated lines, through temporary files (the test's);
  sqlite3        sqlite_workload.sql (the test's): 50 000 orders, index, join, sorts;
  make           `make -j2` of a generated C project (40 files), the malloc
                 preloaded into make, the shells, gcc, cc1, as and ld alike;
  mix-<n>[-cross] malloc_mix: n threads of malloc/free on random sizes of 8 to
                 4096 bytes, with --cross half the blocks freed by another
                 thread.

For each workload and malloc it prints, as a Markdown table: the median wall
time and its ratio to glibc's median; the median peak resident set size
(VmHWM, read while the program runs; for make, the largest of its
processes) and its ratio to glibc's; and for a course shim, from its exit
report (HEAPLAB_REPORT=1, which proves that the shim served the program):
the allocations served, the peak heap and the utilization (peak live
requested bytes / heap high-water mark, the course's definition; for make,
the allocations of all processes, the peak and utilization of the largest).
Then the two ratio tables alone, a column per malloc.

Every run's output is compared with glibc's first run: a malloc that
changed what a program prints is reported, not timed. A run that ends
before its peak RSS could be read once is run again. The script exits with
1 when a row has no ratios: a run failed, printed something else, or its
memory was never read.

Measure in a release build; a debug build measures the debug build:

    cmake --preset release
    cmake --build --preset release --target heaplab_malloc_quick_fit shim_malloc_mix
    python3 tools/shim/measure_real_programs.py build/release --runs 3

--quick runs every workload once on small inputs (a test that the
measurement works, not a measurement). python3 runs on the interpreter that
runs this script.

Python 3 standard library only.
"""
import argparse
import hashlib
import math
import os
import re
import shutil
import signal
import statistics
import sys
import sysconfig
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.join(HERE, "tests")
sys.path.insert(0, TESTS)
sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import check_shim  # noqa: E402  (the report line's format, shared with the tests)
import make_sort_input  # noqa: E402  (the sort input, shared with the tests)

POLL_SECONDS = 0.002  # how often a running program's peak RSS is read
SAMPLE_ATTEMPTS = 3   # runs of a program that ends before its peak RSS is read once

# The production mallocs, as Debian installs them (package, library file).
PRODUCTION = [("mimalloc", "libmimalloc2.0", "libmimalloc.so.2"),
              ("jemalloc", "libjemalloc2", "libjemalloc.so.2"),
              ("tcmalloc", "libtcmalloc-minimal4", "libtcmalloc_minimal.so.4")]

# Course shims measured by default when built, besides quick-fit.
OPTIONAL_SHIMS = ["two-level-fit", "paged"]


class Sizes:
    """The inputs' sizes: a measurement's, or --quick's small ones."""

    def __init__(self, quick):
        self.sort_lines = 20_000 if quick else 200_000
        self.sqlite_orders = 5_000 if quick else 50_000  # the test's
        self.alloc_heavy_divisor = 20 if quick else 1
        self.live_heap_mib = 32 if quick else 2350  # about 2.6 GB requested from malloc
        self.make_files = 6 if quick else 40
        self.mix_operations = 50_000 if quick else 1_000_000


class Workload:
    """One row's program: argv, stdin file (or None), the environment it
    runs with, the extra environment of the course's shims, and whether it
    is one process (one report line) or a tree of them."""

    def __init__(self, argv, stdin_path=None, env=None, shim_env=None, tree=False):
        self.argv = argv
        self.stdin_path = stdin_path
        self.env = env or {}
        self.shim_env = shim_env or {}
        self.tree = tree


def find(program):
    """The full path of `program`, or exit with a clear message."""
    path = shutil.which(program)
    if path is None:
        sys.exit("{} not found: install it with the README's apt-get line".format(program))
    return path


def note(text):
    """A one-line note on stderr: something skipped, and why."""
    print("note: " + text, file=sys.stderr, flush=True)


def python_env():
    """PYTHONMALLOC=malloc: every Python object through malloc (see the tests)."""
    return {"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}


def sqlite_script(work_dir, orders):
    """sqlite_workload.sql with `orders` orders (its own are 50 000)."""
    with open(os.path.join(TESTS, "sqlite_workload.sql"), encoding="utf-8") as source:
        text = source.read()
    scaled, count = re.subn(r"WHERE i < 50000\)", "WHERE i < {})".format(orders), text)
    if count != 1:
        sys.exit("sqlite_workload.sql no longer makes its orders with `WHERE i < 50000)`: update sqlite_script()")
    path = os.path.join(work_dir, "sqlite_workload_{}.sql".format(orders))
    with open(path, "w", encoding="utf-8") as script:
        script.write(scaled)
    return path


def write_make_project(directory, files):
    """A small C project in `directory`: `files` sources, each a function of
    loops over a struct array, a main() that prints their sum, and a
    Makefile whose default goal builds the program and runs it."""
    os.makedirs(directory, exist_ok=True)
    for index in range(files):
        with open(os.path.join(directory, "f{}.c".format(index)), "w", encoding="ascii") as source:
            source.write(
                "struct item {{ int key; int value; }};\n"
                "int f{i}(int x) {{\n"
                "  struct item items[32];\n"
                "  int total = 0;\n"
                "  for (int i = 0; i < 32; ++i) {{ items[i].key = i * {i} + x; items[i].value = (x ^ i) % {m}; }}\n"
                "  for (int i = 0; i < 32; ++i) total += items[i].key * items[i].value;\n"
                "  return total + {i};\n"
                "}}\n".format(i=index, m=index + 3))
    with open(os.path.join(directory, "main.c"), "w", encoding="ascii") as main:
        main.write("#include <stdio.h>\n")
        main.write("".join("int f{}(int x);\n".format(i) for i in range(files)))
        main.write("int main(void) {\n  long sum = 0;\n")
        main.write("".join("  sum += f{}({});\n".format(i, i + 1) for i in range(files)))
        main.write('  printf("%d functions, sum %ld\\n", {}, sum);\n  return 0;\n}}\n'.format(files))
    objects = " ".join(["main.o"] + ["f{}.o".format(i) for i in range(files)])
    with open(os.path.join(directory, "Makefile"), "w", encoding="ascii") as makefile:
        makefile.write("CFLAGS = -O2\nOBJECTS = {}\n\n".format(objects))
        makefile.write("all: program\n\t./program\n\n")
        makefile.write("program: $(OBJECTS)\n\t$(CC) -o $@ $(OBJECTS)\n\n")
        makefile.write("%.o: %.c\n\t$(CC) $(CFLAGS) -c $<\n")


def workload_table(build_dir, work_dir, sizes):
    """The workloads: name -> Workload, or name -> a reason it cannot run."""
    sort_input = os.path.join(work_dir, "sort_input_{}.txt".format(sizes.sort_lines))
    make_sort_input.write(sort_input, sizes.sort_lines)
    table = {
        "python3": Workload([sys.executable, os.path.join(TESTS, "alloc_heavy.py"),
                             str(sizes.alloc_heavy_divisor)], env=python_env()),
        # The course's shims reserve 1 GiB unless told otherwise.
        "python3-big": Workload([sys.executable, os.path.join(TESTS, "live_heap.py"), str(sizes.live_heap_mib)],
                                env=python_env(), shim_env={"HEAPLAB_HEAP_SIZE": "4G"}),
        # LC_ALL=C: byte order; -S 256K: runs sorted into temporary files, merged.
        "sort": Workload([find("sort"), "-S", "256K", "-T", work_dir, sort_input], env={"LC_ALL": "C"}),
        "sqlite3": Workload([find("sqlite3"), ":memory:"], sqlite_script(work_dir, sizes.sqlite_orders)),
    }
    make, gcc = shutil.which("make"), shutil.which("gcc")
    if make and gcc:
        project = os.path.join(work_dir, "make_project")
        write_make_project(project, sizes.make_files)
        # -B: every run compiles everything; -s: only the program's output.
        table["make"] = Workload([make, "-s", "-B", "-j2", "-C", project, "CC=" + gcc],
                                 env={"LC_ALL": "C"}, tree=True)
    else:
        table["make"] = "needs make and gcc"
    mix = os.path.join(build_dir, "tools", "shim", "tests", "shim_malloc_mix")
    for threads in (1, 2, 8):
        for cross in ([False] if threads == 1 else [False, True]):
            name = "mix-{}{}".format(threads, "-cross" if cross else "")
            if os.path.exists(mix):
                table[name] = Workload([mix, str(threads), str(sizes.mix_operations)] + (["--cross"] if cross else []))
            else:
                table[name] = "needs {} (build the target shim_malloc_mix)".format(mix)
    return table


class Run:
    """One run of one program: its time, memory, exit status (None when it
    was stopped for taking too long), a digest of its output, and its
    stderr. Only the digest of the output is kept: it is all the
    comparison needs, and sort prints megabytes."""

    def __init__(self, seconds, max_rss_kib, status, stdout_digest, stderr):
        self.seconds = seconds
        self.max_rss_kib = max_rss_kib
        self.status = status
        self.stdout_digest = stdout_digest
        self.stderr = stderr


def run_once(workload, env, work_dir, timeout):
    """Spawns the workload with its output in files, waits with wait4, and
    returns a Run (status None: killed after `timeout` seconds)."""
    out_path = os.path.join(work_dir, "stdout")
    err_path = os.path.join(work_dir, "stderr")
    write = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 0, workload.stdin_path or os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, out_path, write, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, err_path, write, 0o644)]
    # A tree of processes gets its own process group, so that a run stopped
    # for taking too long takes its children with it.
    start = time.perf_counter()
    pid = os.posix_spawn(workload.argv[0], workload.argv, env, file_actions=actions, setpgroup=0)
    peak_kib = 0
    while True:
        # Sampled first: a program of a few milliseconds may be gone by
        # the second look.
        peak_kib = max(peak_kib, tree_high_water_kib(pid) if workload.tree else high_water_kib(pid))
        waited, status, _ = os.wait4(pid, os.WNOHANG)
        if waited == pid:
            break
        if time.perf_counter() - start > timeout:
            os.killpg(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            return Run(timeout, peak_kib, None, "", "timed out after {} s".format(timeout))
        time.sleep(POLL_SECONDS)
    seconds = time.perf_counter() - start
    with open(err_path, encoding="utf-8", errors="replace") as err:
        return Run(seconds, peak_kib, os.waitstatus_to_exitcode(status), file_digest(out_path), err.read())


def run_sampled(workload, env, work_dir, timeout):
    """run_once(), run again (up to SAMPLE_ATTEMPTS times in all) while the
    program ended before its memory could be read once: on a busy machine
    this script may not get the processor back within a short program's
    life."""
    for _ in range(SAMPLE_ATTEMPTS - 1):
        run = run_once(workload, env, work_dir, timeout)
        if run.status != 0 or run.max_rss_kib > 0:
            return run
    return run_once(workload, env, work_dir, timeout)


def high_water_kib(pid):
    """The peak resident set size of process `pid` so far (VmHWM, in KiB),
    or 0 once it has exited.

    Why not wait4()'s ru_maxrss: Linux keeps a process's peak across
    exec(), so a child's would start at this script's own size when it was
    spawned, which is as large as sqlite3's or sort's. VmHWM belongs to the
    program's own address space, which exec() makes new."""
    try:
        with open("/proc/{}/status".format(pid), encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid):
    """The child processes of `pid` (of all its threads), or [] once it has exited."""
    found = []
    try:
        for task in os.listdir("/proc/{}/task".format(pid)):
            with open("/proc/{}/task/{}/children".format(pid, task), encoding="ascii") as listed:
                found.extend(int(child) for child in listed.read().split())
    except OSError:
        pass
    return found


def tree_high_water_kib(pid):
    """The largest VmHWM among `pid` and its descendants alive now. A
    process that lives less than a poll's interval may be missed: make's
    compilers live for tens of milliseconds, its polls are 2 ms apart."""
    peak, pending = 0, [pid]
    while pending:
        process = pending.pop()
        peak = max(peak, high_water_kib(process))
        pending.extend(children(process))
    return peak


def file_digest(path):
    """The SHA-256 of the file at `path`, read in pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        for piece in iter(lambda: data.read(1 << 20), b""):
            digest.update(piece)
    return digest.hexdigest()


class Contender:
    """A malloc to measure: glibc (no preload), a course shim (`kind`
    "shim", which prints an exit report) or a production malloc."""

    def __init__(self, name, kind, library=None):
        self.name = name
        self.kind = kind
        self.library = library

    def environment(self, workload, shim_env):
        """The caller's environment, cleaned of heaplab and preload
        settings, with the workload's, and the preload: for a course shim,
        with its report and `shim_env` (an empty value unsets)."""
        extra = ["{}={}".format(k, v) for k, v in workload.env.items()]
        env = check_shim.environment(extra, self.library if self.kind == "shim" else None)
        if self.kind == "shim":
            for key, value in shim_env.items():
                if value:
                    env[key] = value
                else:
                    env.pop(key, None)
        elif self.kind == "production":
            env["LD_PRELOAD"] = self.library
        return env


class Row:
    """One workload on one malloc: its table cells, or why it has none."""

    def __init__(self, workload, contender, failure=None, seconds=0.0, rss_kib=0, report=None):
        self.workload = workload
        self.contender = contender
        self.failure = failure
        self.seconds = seconds
        self.rss_kib = rss_kib
        self.report = report  # (allocations, peak bytes, utilization text) for a course shim
        self.time_ratio = self.rss_ratio = None


def shim_env_for(name, workload, args):
    """The extra environment of the course's shims for workload `name`:
    --heap-size, then the workload's own, then --shim-env's."""
    env = {"HEAPLAB_HEAP_SIZE": args.heap_size} if args.heap_size else {}
    env.update(workload.shim_env)
    for setting in args.shim_env:
        target, _, assignment = setting.partition(":")
        if target == name:
            key, _, value = assignment.partition("=")
            env[key] = value
    return env


def measure(name, workload, contenders, args, work_dir):
    """Runs one workload args.runs times per contender, alternating, and
    returns one Row per contender, glibc's first."""
    results = {c.name: [] for c in contenders}
    shim_env = shim_env_for(name, workload, args)
    for _ in range(args.runs):
        for contender in contenders:
            if results[contender.name] and results[contender.name][-1].status is None:
                continue  # stopped once for taking too long: not worth more runs
            results[contender.name].append(
                run_sampled(workload, contender.environment(workload, shim_env), work_dir, args.timeout))
    reference = results["glibc"][0]
    rows = [summarize(name, workload, c, results[c.name], reference) for c in contenders]
    glibc = rows[0]
    for row in rows:
        if row.failure is None and glibc.failure is None:
            row.time_ratio = row.seconds / glibc.seconds
            row.rss_ratio = row.rss_kib / glibc.rss_kib if glibc.rss_kib else None
    return rows


def describe_failure(run):
    """Why `run` has no numbers: stopped, failed, or printed something else."""
    if run.status is None:
        return "did not finish: " + run.stderr
    if run.status != 0:
        _, others = check_shim.parse_report(run.stderr)  # the shim's own report says nothing of why
        last_line = (others.strip().splitlines() or [""])[-1]
        return "failed with exit code {}: {}".format(run.status, last_line[:60])
    return "printed another output than glibc's"


def shim_report(workload, contender, run):
    """The shim's exit report of `run` as (allocations, peak bytes,
    utilization), or a string saying why there is none: one report for
    one process, at least one for a tree (the sum of their allocations,
    the largest peak and its utilization)."""
    reports, _ = check_shim.parse_report(run.stderr)
    reports = [r for r in reports if r.group("name") == contender.name]
    if not reports or (len(reports) != 1 and not workload.tree):
        return "{} report lines for {}: the preload failed".format(len(reports), contender.name)
    largest = max(reports, key=lambda r: int(r.group("peak")))
    return (sum(int(r.group("allocations")) for r in reports), int(largest.group("peak")),
            largest.group("utilization"))


def summarize(name, workload, contender, runs, reference):
    """One Row for `runs` of workload `name` on `contender`."""
    failed = [r for r in runs if r.status != 0 or r.stdout_digest != reference.stdout_digest]
    if failed:
        return Row(name, contender, failure=describe_failure(failed[0]))
    report = None
    if contender.kind == "shim":
        report = shim_report(workload, contender, runs[-1])
        if isinstance(report, str):
            return Row(name, contender, failure=report)
    return Row(name, contender, seconds=statistics.median(r.seconds for r in runs),
               rss_kib=statistics.median(r.max_rss_kib for r in runs), report=report)


def ratio_cell(value):
    """A ratio as a table cell: two decimals, or a dash when there is none."""
    return "-" if value is None else "{:.2f}".format(value)


def detail_line(row):
    """The full table's line for `row`."""
    if row.failure is not None:
        return "| {} | {} | {} | | | | | | |".format(row.workload, row.contender.name, row.failure)
    allocations = peak = utilization = ""
    if row.report is not None:
        allocations = "{:,}".format(row.report[0])
        peak = "{:.1f}".format(row.report[1] / (1024 * 1024))
        utilization = row.report[2] + "%"
    return "| {} | {} | {:.0f} | {} | {:.1f} | {} | {} | {} | {} |".format(
        row.workload, row.contender.name, row.seconds * 1000, ratio_cell(row.time_ratio),
        row.rss_kib / 1024, ratio_cell(row.rss_ratio), allocations, peak, utilization)


def ratio_table(title, rows_by_workload, contenders, attribute):
    """A Markdown table of one ratio to glibc: a row per workload, a
    column per malloc but glibc; "failed" where a run failed."""
    others = [c.name for c in contenders[1:]]
    lines = ["", title, "", "| workload | " + " | ".join(others) + " |",
             "|---|" + "---:|" * len(others)]
    for workload, rows in rows_by_workload:
        cells = ["failed" if r.failure is not None else ratio_cell(getattr(r, attribute)) for r in rows[1:]]
        lines.append("| {} | {} |".format(workload, " | ".join(cells)))
    return "\n".join(lines)


def rows_without_ratios(rows_by_workload):
    """"<workload> on <malloc>" for each row whose runs failed or whose
    ratios are not both finite positive numbers (a peak RSS never read)."""
    missing = []
    for workload, rows in rows_by_workload:
        for row in rows:
            ratios = (row.time_ratio, row.rss_ratio)
            if row.failure is not None or not all(r is not None and math.isfinite(r) and r > 0 for r in ratios):
                missing.append("{} on {}".format(workload, row.contender.name))
    return missing


def library_dirs():
    """Where Debian and others install shared libraries, multiarch first."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    candidates = [os.path.join("/usr/lib", multiarch), "/usr/lib64", "/usr/lib", "/usr/local/lib"]
    return [d for d in candidates if os.path.isdir(d)]


def production_contenders(wanted):
    """The production mallocs found on this machine, a note for each one
    missing; none when `wanted` is False, and all that exist when it is
    None (the default)."""
    if wanted is False:
        return []
    found = []
    for name, package, library in PRODUCTION:
        paths = [os.path.join(d, library) for d in library_dirs() if os.path.exists(os.path.join(d, library))]
        if paths:
            found.append(Contender(name, "production", paths[0]))
        else:
            note("{} skipped: {} not found (Debian: apt-get install {})".format(name, library, package))
    return found


def shim_contenders(build_dir, shims):
    """The course shims to measure: `shims` (comma-separated), or quick-fit
    and each of OPTIONAL_SHIMS that is built."""
    def library(shim):
        return os.path.join(build_dir, "tools", "shim", "libheaplab-malloc-{}.so".format(shim))

    names = shims.split(",") if shims else ["quick-fit"] + [s for s in OPTIONAL_SHIMS if os.path.exists(library(s))]
    for shim in names:
        if not os.path.exists(library(shim)):
            sys.exit("{} not found: build the shim first (see --help)".format(library(shim)))
    return [Contender(shim, "shim", library(shim)) for shim in names]


def parse_arguments():
    """The command line; exits with a one-line message on a bad one."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build_dir", help="the build tree that holds tools/shim/libheaplab-malloc-*.so")
    parser.add_argument("--runs", type=int, help="runs per workload and malloc (default 5; 1 with --quick)")
    parser.add_argument("--shims", help="comma-separated course shims (default quick-fit, and two-level-fit "
                                        "and paged when built; also bump, segregated-fit, first-fit)")
    parser.add_argument("--production", action=argparse.BooleanOptionalAction, default=None,
                        help="measure mimalloc, jemalloc and tcmalloc too (default: those installed)")
    parser.add_argument("--workloads", "--programs", dest="workloads",
                        help="comma-separated workloads (default: all of them)")
    parser.add_argument("--heap-size", help="HEAPLAB_HEAP_SIZE for the shims (default: the shim's 1G)")
    parser.add_argument("--shim-env", action="append", default=[], metavar="WORKLOAD:VAR=VALUE",
                        help="an environment setting of the course's shims on one workload; VAR= unsets "
                             "(python3-big has HEAPLAB_HEAP_SIZE=4G)")
    parser.add_argument("--quick", action="store_true",
                        help="small inputs, one run: checks that the measurement works, measures nothing")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds after which a run is stopped and reported (default 300)")
    args = parser.parse_args()
    if args.runs is None:
        args.runs = 1 if args.quick else 5
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    for setting in args.shim_env:
        if not re.fullmatch(r"[^:]+:[A-Za-z_][A-Za-z0-9_]*=.*", setting):
            parser.error("--shim-env {!r} is not WORKLOAD:VAR=VALUE".format(setting))
    return args


def main():
    args = parse_arguments()
    build_dir = os.path.abspath(args.build_dir)
    contenders = [Contender("glibc", "glibc")] + shim_contenders(build_dir, args.shims) + \
        production_contenders(args.production)
    rows_by_workload = []
    print("| workload | malloc | median wall time (ms) | vs glibc | peak RSS (MiB) | vs glibc "
          "| allocations served | peak heap (MiB) | utilization |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="heaplab-measure-") as work_dir:
        table = workload_table(build_dir, work_dir, Sizes(args.quick))
        names = args.workloads.split(",") if args.workloads else list(table)
        for name in names:
            if name not in table:
                sys.exit("unknown workload {!r}: choose among {}".format(name, ", ".join(table)))
            if isinstance(table[name], str):
                note("{} skipped: {}".format(name, table[name]))
                continue
            rows = measure(name, table[name], contenders, args, work_dir)
            for row in rows:
                print(detail_line(row), flush=True)
            rows_by_workload.append((name, rows))
    print(ratio_table("Median wall time, relative to glibc's (lower is faster):",
                      rows_by_workload, contenders, "time_ratio"))
    print(ratio_table("Median peak RSS, relative to glibc's (lower is smaller):",
                      rows_by_workload, contenders, "rss_ratio"))
    print()
    print("{} run(s) per workload and malloc, alternating; {} cores; {}; medians of the runs; peak RSS is VmHWM, "
          "read every {:.0f} ms.".format(args.runs, os.cpu_count(), os.confstr("CS_GNU_LIBC_VERSION"),
                                         POLL_SECONDS * 1000))
    missing = rows_without_ratios(rows_by_workload)
    if missing:
        sys.exit("measure_real_programs: no ratios for {} (see the table)".format(", ".join(missing)))


if __name__ == "__main__":
    main()
