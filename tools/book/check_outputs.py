#!/usr/bin/env python3
"""Every output a page quotes is what the program prints today.

    check_outputs.py --source ROOT --build BUILD [--suggest]

A page quotes a program's output in a fenced block that says where it comes
from, either on its first line, as a command typed at a prompt:

    ```
    $ heaplab map traces/tiny-holes.rep first-fit
    line 5: a 0 40          [A 56]
    ```

or in an HTML comment (invisible in the HTML and on a code host) on the
line before the block:

    <!-- output: stage2_free_list/stage2_demo -->
    ```
    allocate(16), allocate(32), allocate(8):
    ...
    ```

The command is run in a scratch folder where `traces/` is the
repository's, its program found in the build folder (`heaplab` is `tools/heaplab`). Every line of the block must be
a line the program printed, in the same order; a line `...` stands for
lines left out. Before comparing, both sides drop what changes from run to
run: addresses (0x...), a speed column ("0.42x") at the end of a line, and
the sizes in a row of glibc or std::pmr, measured on the process's heap;
runs of spaces count as one, and a table's rule of dashes is not compared.
A table of measures per allocator and trace, as `heaplab compare` gives
them, says which measure it shows in a comment before it:

    <!-- table: utilization -->          (or: visited)
    | allocator | `random-sizes` | ...
    |---|--:|...
    | best-fit (ch. 3) | 35.1% | ...

Its rows name allocators (a "(ch. N)" after the name is a reminder) and its
columns traces; the checker runs `heaplab compare --csv` on them and
requires every cell: utilization to one decimal, blocks visited per
allocation to two, or "out of memory" (bold marks the best and is ignored).

A table with a trace per row (`<!-- table: by trace -->`) names its
allocators in backticks in its heading, and its traces in backticks in the
first cell of a row; a cell says "U%", "U%, H" or "U%, peak heap H" (the
utilization, and the peak heap as the lab prints sizes), "out of memory"
(optionally "at line N"), or "the same" (every allocator of the row alike).

A table of benchmark results (`<!-- table: speed and visits -->`) has a
workload per row and an allocator per column ("first fit", "explicit list
(ch. 2)"), each cell a measured speed and, in parentheses, the blocks a
search visits per allocation: in a row that names a shipped trace in
backticks, each visit count must be `heaplab compare`'s, to the digits the
cell gives (the speed is measured, and left aside; rows of the
benchmarks' own loops are left to bench/). The benchmarks replay a trace on
a larger heap than the lab's default, which the annotation gives:
`<!-- table: speed and visits --heap-size 64M -->`.

Exits 1 naming the first line or cell that differs, 2 when a program cannot
run. With --suggest, prints instead which unannotated blocks of the pages
are lines of a demo's output (to annotate them).
"""

import argparse
import atexit
import csv
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

from pages import book_pages

#: The comment that names a block's source.
ANNOTATION = re.compile(r"^<!-- output: (.+) -->$")
#: The comment that names a table's measure.
TABLE_ANNOTATION = re.compile(r"^<!-- table: (utilization|visited|by trace|speed and visits)( --heap-size \w+)? -->$")
#: An address, which changes from run to run.
ADDRESS = re.compile(r"0x[0-9a-f]+")
#: A measured speed at the end of a line, and the column's heading and rule.
SPEED = re.compile(r"(  +([0-9.]+x|speed vs glibc|-+))$")
#: A row of the references, glibc and std::pmr, whose internal
#: fragmentation (malloc_usable_size) depends on what the process did before.
REFERENCE_ROW = re.compile(r"^\s*(glibc|pmr-pool)\s")
#: A size as the lab prints it.
BYTES = re.compile(r"\d+(\.\d+)? (B|KiB|MiB|GiB)")
#: Programs named by their short name.
SHORT_NAMES = {"heaplab": "tools/heaplab"}
#: The demos, for --suggest.
DEMOS = ["stage1_static_bump/stage1_demo", "stage2_free_list/stage2_demo", "stage3_fit_strategies/stage3_demo",
         "stage4_coalescing/stage4_demo", "stage5_real_malloc/stage5_demo"]


def stable(line):
    """\\p line without what changes from run to run (addresses, a speed
    column), with its runs of spaces as one (a table quoted before a later
    chapter widened a column keeps its values), and empty for a table's rule."""
    line = ADDRESS.sub("0x...", line.rstrip())
    line = SPEED.sub("", line).rstrip()
    if REFERENCE_ROW.match(line):
        line = BYTES.sub("(measured)", line)
    if set(line) <= {"-", " "}:
        return ""
    return re.sub(r" +", " ", line)


def blocks_of(path):
    """Every fenced block of \\p path: (line number, its source annotation or
    None, its language, its lines)."""
    with open(path, encoding="utf-8") as file:
        lines = file.read().splitlines()
    found, i = [], 0
    while i < len(lines):
        if lines[i].startswith("```"):
            annotation = ANNOTATION.match(lines[i - 1]) if i > 0 else None
            end = i + 1
            while end < len(lines) and not lines[end].startswith("```"):
                end += 1
            found.append((i + 1, annotation.group(1) if annotation else None, lines[i][3:].strip(), lines[i + 1:end]))
            i = end + 1
        else:
            i += 1
    return found


class Runner:
    """Runs the quoted commands, once each."""

    def __init__(self, root, build):
        self.root, self.build, self.outputs = root, os.path.abspath(build), {}
        # The commands run in a scratch folder that sees the traces, so a
        # quoted `map --html FILE` writes its page there, not into the tree.
        self.scratch = tempfile.mkdtemp(prefix="heaplab-book-")
        atexit.register(shutil.rmtree, self.scratch, ignore_errors=True)
        os.symlink(os.path.abspath(os.path.join(root, "traces")), os.path.join(self.scratch, "traces"))

    def output(self, command):
        """The stable lines \\p command prints (standard output and error)."""
        return [stable(line) for line in self.raw_output(command)]

    def raw_output(self, command):
        """The lines \\p command prints (standard output and error), as they are."""
        if command not in self.outputs:
            words = shlex.split(command)
            program = os.path.join(self.build, SHORT_NAMES.get(words[0], words[0]))
            try:
                done = subprocess.run([program, *words[1:]], cwd=self.scratch, capture_output=True, text=True,
                                      timeout=300)
            except (OSError, subprocess.SubprocessError) as error:
                print(f"check_outputs: cannot run `{command}`: {error}", file=sys.stderr)
                sys.exit(2)
            self.outputs[command] = (done.stdout + done.stderr).splitlines()
        return self.outputs[command]


def tables_of(path):
    """Every annotated table of \\p path: (line number, measure, rows of cells)."""
    with open(path, encoding="utf-8") as file:
        lines = file.read().splitlines()
    found = []
    for i, line in enumerate(lines):
        match = TABLE_ANNOTATION.match(line)
        if not match:
            continue
        rows, j = [], i + 1
        while j < len(lines) and lines[j].startswith("|"):
            rows.append([cell.strip() for cell in lines[j].strip("|").split("|")])
            j += 1
        found.append((i + 2, match.group(1) + (match.group(2) or ""), rows))
    return found


def format_bytes(count):
    """\\p count bytes as the lab prints sizes: "24 B", "151.0 KiB", "2.8 MiB"."""
    value, unit = float(count), 0
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    while value >= 1023.95 and unit + 1 < len(units):
        value /= 1024.0
        unit += 1
    return f"{count} B" if unit == 0 else f"{value:.1f} {units[unit]}"


def compare_rows(runner, allocators, traces, options=""):
    """`heaplab compare --csv` of \\p allocators on \\p traces (with the
    extra \\p options): (trace, allocator) -> its CSV row, by column name."""
    command = (f"heaplab compare --csv --repeat 1{options} --allocators {','.join(allocators)} " +
               " ".join(f"traces/{trace}.rep" for trace in traces))
    rows = list(csv.DictReader(runner.raw_output(command)))
    return {(os.path.basename(row["trace"])[:-len(".rep")], row["allocator"]): row for row in rows}


def measured(fields, what):
    """One measure of a compare row, as a table prints it."""
    if fields["outcome"] != "completed":
        return fields["outcome"]
    if what == "utilization":
        return f"{100 * float(fields['utilization']):.1f}%"
    if what == "peak heap":
        return format_bytes(int(fields["peak_heap_bytes"]))
    return f"{float(fields['visited_per_allocation']):.2f}"


def check_by_trace(runner, rows):
    """The first cell of a by-trace table that `heaplab compare` does not give; None when all match."""
    allocators = [re.search(r"`([a-z0-9-]+)`", cell).group(1) for cell in rows[0][1:]]
    traces_of_row = [re.findall(r"`([a-z0-9-]+)`", row[0]) for row in rows[2:]]
    results = compare_rows(runner, allocators, sorted({t for row in traces_of_row for t in row}))
    for traces, row in zip(traces_of_row, rows[2:]):
        for trace in traces:
            cells = {}
            for allocator, cell in zip(allocators, row[1:]):
                fields = results.get((trace, allocator))
                if fields is None:
                    return f"{allocator} on {trace}: heaplab compare printed no row"
                cells[allocator] = (measured(fields, "utilization"), measured(fields, "peak heap"))
                if cell == "the same":
                    continue
                if cell.startswith("out of memory"):
                    at = re.search(r"at line (\d+)", cell)
                    if fields["outcome"] != "out of memory" or (at and not fields["reason"].startswith(f"line {at.group(1)}:")):
                        return f"{allocator} on {trace}: the table says {cell}, heaplab compare: {fields['outcome']} {fields['reason']}"
                    continue
                parts = [part.strip() for part in cell.split(",")]
                wanted = [measured(fields, "utilization")]
                if len(parts) > 1:
                    wanted.append(("peak heap " if parts[1].startswith("peak heap") else "") + measured(fields, "peak heap"))
                if parts != wanted:
                    return f"{allocator} on {trace}: the table says {cell}, heaplab compare gives {', '.join(wanted)}"
            if all(cell == "the same" for cell in row[1:]) and len(set(cells.values())) != 1:
                return f"{trace}: the table says every allocator does the same, heaplab compare gives {cells}"
    return None


def allocator_of_heading(heading):
    """The lab's name for a column heading of a speed table: "first fit" is
    first-fit, "explicit list (ch. 2)" explicit-list; None for the
    references, which have no visit counts."""
    name = re.sub(r" \(ch\. \d\)$", "", heading).strip()
    return None if name.startswith("std::") or name == "glibc" else name.replace(" ", "-")


def check_speed_and_visits(runner, rows, options):
    """The first visit count of a speed table (see the file comment) that
    `heaplab compare` (with \\p options) does not give; None when all match."""
    allocators = [allocator_of_heading(cell) for cell in rows[0][1:]]
    trace_rows = [(re.fullmatch(r"`([a-z0-9-]+)`", row[0]), row) for row in rows[2:]]
    traces = sorted({match.group(1) for match, _ in trace_rows if match})
    results = compare_rows(runner, [a for a in allocators if a], traces, options)
    for match, row in trace_rows:
        if not match:
            continue
        for allocator, cell in zip(allocators, row[1:]):
            visits = re.search(r"\(([0-9.]+)\)", cell)
            if allocator is None or visits is None:
                continue
            fields = results.get((match.group(1), allocator))
            if fields is None:
                return f"{allocator} on {match.group(1)}: heaplab compare printed no row"
            decimals = len(visits.group(1).partition(".")[2])
            printed = f"{float(fields['visited_per_allocation']):.{decimals}f}"
            if printed != visits.group(1):
                return f"{allocator} on {match.group(1)}: the table says {visits.group(1)} visits, heaplab compare gives {printed}"
    return None


def check_table(runner, measure, rows):
    """The first cell of a table of one measure per allocator and trace (see
    the file comment) that `heaplab compare` does not give; None when all match."""
    header, body = rows[0], rows[2:]
    traces = [cell.strip("`") for cell in header[1:]]
    allocators = [re.sub(r" \(ch\. \d\)$", "", row[0]).strip("`") for row in body]
    results = compare_rows(runner, allocators, traces)
    for allocator, row in zip(allocators, body):
        for trace, cell in zip(traces, row[1:]):
            fields = results.get((trace, allocator))
            if fields is None:
                return f"{allocator} on {trace}: heaplab compare printed no row"
            printed = measured(fields, measure)
            if cell.strip("*") != printed:
                return f"{allocator} on {trace}: the table says {cell}, heaplab compare gives {printed}"
    return None


def first_missing(quoted, printed):
    """The first line of \\p quoted that is not in \\p printed in order (None when all are)."""
    at = 0
    for line in quoted:
        wanted = stable(line)
        if not wanted or wanted == "...":
            continue
        try:
            at = printed.index(wanted, at) + 1
        except ValueError:
            return line
    return None


def main():
    parser = argparse.ArgumentParser(description="Check the outputs the pages quote.")
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--suggest", action="store_true")
    arguments = parser.parse_args()
    runner = Runner(arguments.source, arguments.build)
    checked = 0
    for page in book_pages(arguments.source):
        name = os.path.relpath(page, arguments.source)
        for number, annotation, language, lines in blocks_of(page):
            command, quoted = annotation, lines
            if command is None and lines and lines[0].startswith("$ heaplab "):
                command, quoted = lines[0][2:], lines[1:]
            if arguments.suggest:
                if command is None and language == "" and lines:
                    for demo in DEMOS:
                        if first_missing(lines, runner.output(demo)) is None:
                            print(f"{name}:{number}: <!-- output: {demo} -->")
                continue
            if command is None or not quoted:
                continue
            missing = first_missing(quoted, runner.output(command))
            if missing is not None:
                print(f"{name}:{number}: `{command}` no longer prints, in this order, the line\n  {missing}")
                return 1
            checked += 1
        if arguments.suggest:
            continue
        for number, measure, rows in tables_of(page):
            if measure == "by trace":
                wrong = check_by_trace(runner, rows)
            elif measure.startswith("speed and visits"):
                wrong = check_speed_and_visits(runner, rows, measure[len("speed and visits"):])
            else:
                wrong = check_table(runner, measure, rows)
            if wrong is not None:
                print(f"{name}:{number}: {wrong}")
                return 1
            checked += 1
    if not arguments.suggest:
        print(f"{checked} quoted outputs and tables are what their programs print")
    return 0


if __name__ == "__main__":
    sys.exit(main())
