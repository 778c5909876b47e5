#!/usr/bin/env python3
"""Every chapter page opens with its reading time, counted from its words.

    reading_time.py --source ROOT           writes each chapter page's line
    reading_time.py --source ROOT --check   exits 1, naming each page whose
                                            line is missing or not what its
                                            words give (a CTest test)

The line follows the page's title:

    *Reading time: about 20 minutes (see \\ref prerequisites_time).*

The minutes are the page's words at 200 a minute, to the nearest 5 and at
least 5. The words are those of its prose and tables; the code it quotes
(`\\snippet` lines, fenced blocks) is not counted, so the estimate is a
floor: reading code, running the demo and doing the exercises come on top.
"""

import argparse
import os
import re
import sys

from pages import chapter_pages, prose

#: Words read a minute.
WORDS_PER_MINUTE = 200
#: The line, with the minutes to fill in.
LINE = "*Reading time: about {} minutes (see \\ref prerequisites_time).*"
#: The line as it is found on a page.
FOUND = re.compile(r"^\*Reading time: about (\d+) minutes \(see \\ref prerequisites_time\)\.\*$")


def words(text):
    """The words of \\p text outside fenced code and \\snippet lines."""
    count = 0
    for _, line in prose(text.splitlines()):
        if not line.startswith("\\snippet") and not FOUND.match(line):
            count += len(re.findall(r"[A-Za-z0-9']+", line))
    return count


def minutes(text):
    """The reading time of \\p text, in minutes: to the nearest 5, at least 5."""
    return max(5, 5 * round(words(text) / WORDS_PER_MINUTE / 5))


def with_line(text):
    """\\p text with its reading-time line right after the title, written anew."""
    lines = [line for line in text.splitlines() if not FOUND.match(line)]
    # The title, then one blank line, then the reading time.
    while len(lines) > 1 and lines[1] == "" and len(lines) > 2 and lines[2] == "":
        del lines[1]
    body = "\n".join(lines) + "\n"
    return "\n".join([lines[0], "", LINE.format(minutes(body))] + lines[1:]) + "\n"


def main():
    parser = argparse.ArgumentParser(description="Write or check each chapter's reading time.")
    parser.add_argument("--source", required=True, help="the repository's root")
    parser.add_argument("--check", action="store_true", help="fail if a page's line is not what its words give")
    arguments = parser.parse_args()
    chapters = chapter_pages(arguments.source)
    if not chapters:
        print(f"reading_time: no chapter pages under {arguments.source}", file=sys.stderr)
        return 2
    stale = []
    for path in chapters:
        with open(path, encoding="utf-8") as file:
            text = file.read()
        wanted = with_line(text)
        if wanted == text:
            continue
        if arguments.check:
            stale.append(os.path.relpath(path, arguments.source))
        else:
            with open(path, "w", encoding="utf-8") as file:
                file.write(wanted)
    for page in stale:
        print(f"{page}: its reading time is missing or not what its words give: "
              "run `cmake --build --preset dev --target book`")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
