#!/usr/bin/env python3
"""Checks, in headless Chromium, that the HTML docs fold every exercise's
answer away until asked for (docs/fold_answers.js).

    check_folded_answers.py --html DIR

For every page of DIR whose source holds answers ("<em>Answer:</em>"): the
page shows as many folded answers as it has answers, none open and none of
their text visible; opening the first shows it; and the page logs no error.
Exits 0 when all hold, 1 with the first page that fails, 2 when the browser
cannot be started.
"""

import argparse
import glob
import os
import sys

import headless_chromium

#: What the page shows of its answers.
READ_ANSWERS = """
const folded = Array.from(document.querySelectorAll("details.answer"));
return [folded.length, folded.filter((d) => d.open).length,
        folded.filter((d) => d.querySelector("p").checkVisibility()).length];
"""


def fail(message, status=1):
    """Ends the check with one line."""
    headless_chromium.fail("check_folded_answers", message, status)


def main():
    parser = argparse.ArgumentParser(description="Check that the HTML docs fold the answers away.")
    parser.add_argument("--html", required=True, help="the folder of the HTML docs")
    folder = parser.parse_args().html
    pages = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.html"))):
        with open(path, encoding="utf-8") as file:
            count = file.read().count("<em>Answer:</em>")
        if count:
            pages[path] = count
    if not pages:
        fail(f"no page of {folder} has an answer")
    driver = headless_chromium.browser("check_folded_answers")
    try:
        for path, answers in pages.items():
            name = os.path.basename(path)
            driver.get("file://" + os.path.abspath(path))
            folded, opened, visible = driver.execute_script(READ_ANSWERS)
            if (folded, opened, visible) != (answers, 0, 0):
                fail(f"{name}: {answers} answers, {folded} folded, {opened} open, {visible} visible")
            driver.find_element("css selector", "details.answer summary").click()
            if driver.execute_script(READ_ANSWERS)[2] != 1:
                fail(f"{name}: opening the first answer does not show it")
            errors = headless_chromium.console_errors(driver)
            if errors:
                fail(f"{name}: the browser logged an error: {errors[0]}")
    finally:
        driver.quit()
    print(f"every answer is folded away on {len(pages)} pages ({sum(pages.values())} answers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
