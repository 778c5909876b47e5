#!/usr/bin/env python3
"""Every exercise of the book says how hard it is.

    check_marks.py --source ROOT

An exercise starts with a bold numbered title ("**3. Flag bits.**") in a
chapter, or a numbered heading ("### 3. Ranking the policies") on the
exercises page; right after its title comes its mark, "(★)", "(★★)" or
"(★★★)", as docs/prerequisites.md explains them. Exits 1, naming each
exercise without one.
"""

import argparse
import os
import re
import sys

from pages import book_pages, prose

#: An exercise's title in a chapter, and its mark if it has one.
BOLD_TITLE = re.compile(r"^\*\*\d+\. [^*]+\*\*( \((★{1,3})\))?(?: |$)")
#: An exercise's heading on the exercises page, and its mark if it has one.
HEADING_TITLE = re.compile(r"^### \d+\. .*?( \((★{1,3})\))?$")
#: Exercises found, at least, across the book (a guard against a changed layout).
FEWEST = 50


def main():
    parser = argparse.ArgumentParser(description="Check that every exercise carries its difficulty.")
    parser.add_argument("--source", required=True, help="the repository's root")
    root = parser.parse_args().source
    found, unmarked = 0, []
    for page in book_pages(root):
        with open(page, encoding="utf-8") as file:
            lines = file.read().splitlines()
        for number, line in prose(lines):
            match = BOLD_TITLE.match(line) or HEADING_TITLE.match(line)
            if match:
                found += 1
                if not match.group(2):
                    unmarked.append(f"{os.path.relpath(page, root)}:{number}: {line.strip()[:60]}")
    for place in unmarked:
        print(f"{place}: no difficulty mark, (★), (★★) or (★★★), after the title")
    if found < FEWEST:
        print(f"only {found} exercises found: has the layout of their titles changed?")
        return 1
    return 1 if unmarked else 0


if __name__ == "__main__":
    sys.exit(main())
