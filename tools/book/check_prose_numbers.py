#!/usr/bin/env python3
"""Every number a page's prose states is checked, like its quoted outputs.

    check_prose_numbers.py --source ROOT --build BUILD [--list]

A number with a unit in a sentence (42 bytes, 10 MiB, 88.2%, 133 blocks)
can drift from the code as a quoted output can. Each one must be accounted
for in one of four ways:

1. It is printed by a program the same page quotes, with its output
   checked by check_outputs.py (a block under `<!-- output: ... -->` or
   starting `$ heaplab ...`), or it is a cell of a checked table, or (on
   the exercises page) it is in an answer docs/check_exercises.cmake checks.
2. The paragraph it is in follows a comment that names a program, and that
   program prints it today:

       <!-- numbers: heaplab replay traces/random-sizes.rep best-fit -->

   (several programs are separated by " ; "). A number the prose rounds
   ("about 550 blocks", "265 KiB") matches the printed one it rounds: to the
   digits given, or within 5% after "about", "near", "over" and the like.

3. It is one of the course's constants, as the build's `book_constants`
   program prints them (header and footer bytes, the static heap, the
   mapping threshold, ...): the page names it in a comment on the line
   before the paragraph, `<!-- constants: kHeaderSize kFooterSize -->`.
4. It is listed in tools/book/prose_numbers.txt, with why it needs no
   program: `arithmetic: EXPR` (the checker redoes it), `in: PATH: TEXT`
   (a constant of a test or tool, found in its file), `cited: SOURCE` (a
   figure from elsewhere), `example: ...` (a size the text makes up), or
   `measured elsewhere: ...` (by a script the page names).

Speeds (1.2x, 35 ms, 8 times faster) are left aside: they are measured on
the reader's machine (docs/measuring.md). Exits 1 naming the first number
not accounted for, 2 when a program cannot run.
"""

import argparse
import os
import re
import sys

from check_outputs import Runner, blocks_of, tables_of
from pages import book_pages, prose

#: A number with a unit, as prose states it.
NUMBER = re.compile(r"(?<![\w.$/#^-])((?:about|nearly|near|roughly|around|almost|over|past|under|some|~) )?"
                    r"(\d{1,3}(?:[ ,]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)[ -]?(%|KiB|MiB|GiB|bytes?|B\b|blocks?)(?![\w-])")
#: Any number, as a program prints it.
ANY_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
#: A comment naming the program a paragraph's numbers come from.
NUMBERS_FROM = re.compile(r"<!-- numbers: (.+?) -->")
#: A comment naming the constants a paragraph states.
CONSTANTS = re.compile(r"<!-- constants: (.+?) -->")
#: Bytes per unit.
UNITS = {"%": None, "B": 1, "byte": 1, "bytes": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3,
         "block": None, "blocks": None}


def numbers_of(text):
    """The set of numbers in \\p text, commas dropped."""
    return {number.replace(",", "") for number in ANY_NUMBER.findall(text)}


def printed(value, unit, approximate, pool):
    """True when \\p value \\p unit is one of the numbers of \\p pool: the
    same, or the same rounded to the digits the prose gives, or within 5%
    when the prose says it is approximate ("about 550 blocks"), or a size
    the program prints in bytes ("16 KiB" for 16384)."""
    size = in_bytes(value, unit)
    if value in pool or (size is not None and size.is_integer() and str(int(size)) in pool):
        return True
    decimals = len(value.partition(".")[2])
    wanted = float(value)
    for number in pool:
        got = float(number)
        if round(got, decimals) == wanted:
            return True
        if approximate and wanted > 0 and abs(got - wanted) <= 0.05 * wanted:
            return True
    return False


def prose_numbers(lines):
    """(line number, number, unit, the paragraph's first line number, whether
    the text says it is approximate) for every number with a unit in
    \\p lines' prose, outside code spans and tables."""
    start, indented, html = None, False, False
    for number, line in prose(lines):
        if line.strip() in ("\\htmlonly", "\\endhtmlonly"):
            html = line.strip() == "\\htmlonly"  # raw HTML for Doxygen (an embedded page): no prose
            continue
        if html:
            continue
        if not line.strip():
            if not indented:
                start = None  # a blank line ends a paragraph, but not an indented block
            continue
        if line.lstrip().startswith("<!--"):
            continue  # a comment before a paragraph: the paragraph starts after it
        if indented and not line.startswith("    "):
            start, indented = None, False
        if start is None:
            start, indented = number, line.startswith("    ")
        if line.lstrip().startswith("|"):
            continue
        text = re.sub(r"`[^`]*`", "", line)
        text = re.sub(r"\\(ref|snippet|page|section)\s+\S+", "", text)
        for match in NUMBER.finditer(text):
            value = re.sub(r"[ ,]", "", match.group(2))
            yield number, value, match.group(3), start, match.group(1) is not None


def comment_before(lines, start, pattern):
    """What \\p pattern captures in the comment line just before line \\p start (from 1), or None."""
    if start >= 2:
        match = pattern.search(lines[start - 2])
        if match:
            return match.group(1)
    return None


def checked_numbers(runner, page, lines):
    """Every number of \\p page's checked outputs and tables (way 1)."""
    found = set()
    for _, annotation, _, block in blocks_of(page):
        command = annotation
        if command is None and block and block[0].startswith("$ heaplab "):
            command = block[0][2:]
        if command is not None:
            found |= numbers_of("\n".join(runner.raw_output(command)))
    if os.path.basename(page) == "exercises.md":
        # The exercises page's plain blocks are heaplab's answers, checked
        # line by line by docs/check_exercises.cmake.
        for _, _, language, block in blocks_of(page):
            if language == "":
                found |= numbers_of("\n".join(block))
    for _, _, rows in tables_of(page):
        found |= numbers_of("\n".join("|".join(row) for row in rows))
    return found


def load_constants(runner):
    """The course's constants: name -> bytes (or count), from book_constants."""
    constants = {}
    for line in runner.raw_output("tools/book_constants"):
        name, value = line.split()
        constants[name] = int(value)
    return constants


def load_listed(path):
    """tools/book/prose_numbers.txt: (page, number with unit) -> why."""
    listed = {}
    with open(path, encoding="utf-8") as file:
        for line in file:
            if not line.strip() or line.startswith("#"):
                continue
            page, number, why = (field.strip() for field in line.split("|", 2))
            listed.setdefault((page, number), why)
    return listed


def reason_holds(root, why, value):
    """None when \\p why still holds for \\p value, else what is wrong: an
    "arithmetic: EXPR" must evaluate to the number (to the digits the prose
    gives), an "in: PATH: TEXT" must find TEXT in the file PATH (a constant
    of a test or a tool: if it changes, the page is looked at again)."""
    match = re.fullmatch(r"arithmetic: ([0-9+\-*/(). ]+)", why)
    if match:
        result = eval(match.group(1), {"__builtins__": {}})  # digits and operators only
        decimals = len(value.partition(".")[2])
        return None if round(result, decimals) == float(value) else f"{match.group(1)} gives {result}"
    match = re.fullmatch(r"in: ([^:]+): (.+)", why)
    if match:
        path = os.path.join(root, match.group(1))
        if not os.path.exists(path):
            return f"{match.group(1)} does not exist"
        with open(path, encoding="utf-8") as file:
            return None if match.group(2) in file.read() else f"{match.group(1)} no longer says {match.group(2)}"
    if re.match(r"(cited|example|measured elsewhere): .+", why):
        return None
    return f"the reason '{why}' is none of arithmetic:, in:, cited:, example:, measured elsewhere:"


def in_bytes(value, unit):
    """\\p value \\p unit in bytes, or None for a unit that is not a size."""
    scale = UNITS.get(unit)
    return None if scale is None else float(value) * scale


def main():
    parser = argparse.ArgumentParser(description="Check the numbers the pages state in their prose.")
    parser.add_argument("--source", required=True)
    parser.add_argument("--build", required=True)
    parser.add_argument("--list", action="store_true", help="list every number not accounted for, not only the first")
    arguments = parser.parse_args()
    runner = Runner(arguments.source, arguments.build)
    constants = load_constants(runner)
    listed_path = os.path.join(arguments.source, "tools", "book", "prose_numbers.txt")
    listed = load_listed(listed_path)
    stated = set()
    unaccounted = []
    count = 0
    for page in book_pages(arguments.source):
        name = os.path.relpath(page, arguments.source)
        with open(page, encoding="utf-8") as file:
            lines = file.read().splitlines()
        checked = checked_numbers(runner, page, lines)
        for line, value, unit, start, approximate in prose_numbers(lines):
            count += 1
            stated.add((name, f"{value} {unit}"))
            command = comment_before(lines, start, NUMBERS_FROM)
            if printed(value, unit, approximate, checked) or (command and printed(value, unit, approximate, numbers_of(
                    "\n".join(line for part in command.split(" ; ") for line in runner.raw_output(part))))):
                continue
            named = comment_before(lines, start, CONSTANTS)
            if named:
                wanted = in_bytes(value, unit) if in_bytes(value, unit) is not None else float(value)
                if any(constants.get(constant) == wanted for constant in named.split()):
                    continue
            key = (name, f"{value} {unit}")
            if key in listed:
                wrong = reason_holds(arguments.source, listed[key], value)
                if wrong is None:
                    continue
                unaccounted.append(f"{name}:{line}: {value} {unit}: listed, but {wrong}")
                continue
            unaccounted.append(f"{name}:{line}: {value} {unit}: {lines[line - 1].strip()}")
    if arguments.list:
        print("\n".join(unaccounted))
        return 1 if unaccounted else 0
    if unaccounted:
        print(f"{unaccounted[0]}\n  (no program prints it; see the comment of tools/book/check_prose_numbers.py)")
        return 1
    stale = sorted(set(listed) - stated)
    if stale:
        print(f"tools/book/prose_numbers.txt: {stale[0][0]} no longer states {stale[0][1]}")
        return 1
    print(f"{count} numbers in the pages' prose are checked, printed or listed with why")
    return 0


if __name__ == "__main__":
    sys.exit(main())
