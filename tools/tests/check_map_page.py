#!/usr/bin/env python3
"""Loads a `heaplab map --html` page in headless Chromium and checks that it
shows what `heaplab map` prints.

    check_map_page.py --heaplab EXE --trace TRACE --allocators A,B --step N --work DIR

Writes the page for TRACE on the allocators, opens it in Chromium (through
chromedriver and Selenium), steps to step N with the page's own "next"
button, and compares, for every allocator, the blocks the page draws (their
state and size, in order) with the line `heaplab map TRACE A` prints for
that step, and each block's parts (header, links, bytes asked for, padding,
footer) with the block walk's layout that `heaplab` wrote into the page:
the parts must add up to the block and be the walk's own. Then checks the first, last and play controls and the slider,
and that the browser logged no error. Exits 0 when all hold, 1 with the
first difference, 2 when the browser cannot be started.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time

import headless_chromium

#: A block as `heaplab map` prints it: [A 56] or [F 24].
TEXT_BLOCK = re.compile(r"\[([AF]) (\d+)\]")


def fail(message, status=1):
    """Ends the check with one line."""
    headless_chromium.fail("check_map_page", message, status)


def map_lines(heaplab, trace, allocator):
    """The block lines `heaplab map` prints for \\p allocator, one per step."""
    done = subprocess.run([heaplab, "map", "--max-blocks", "100000", trace, allocator],
                          capture_output=True, text=True, timeout=120)
    lines = [line for line in done.stdout.splitlines() if re.match(r"^(line|operation) \d+: ", line)]
    return [TEXT_BLOCK.findall(line) for line in lines]


#: Reads, in one go, what the page shows: its step label and each heap's blocks.
READ_PAGE = """
const heaps = {};
const parts = {};
for (const section of document.querySelectorAll("section.heap")) {
  const blocks = Array.from(section.querySelectorAll("g.block"));
  heaps[section.dataset.allocator] = blocks.map(
      (block) => [block.getAttribute("data-state"), block.getAttribute("data-size")]);
  parts[section.dataset.allocator] = blocks.map((block) => Array.from(block.querySelectorAll("rect"),
      (rect) => [rect.getAttribute("data-part"), Number(rect.getAttribute("data-bytes"))]));
}
return [document.getElementById("step").textContent, heaps, parts];
"""


def shown(driver):
    """What the page shows now: its step label and, per allocator, its blocks as (state, size)."""
    label, heaps, _ = driver.execute_script(READ_PAGE)
    return label, {name: [tuple(block) for block in blocks] for name, blocks in heaps.items()}


def shown_parts(driver):
    """Per allocator, the parts the page draws for each block: [(part, bytes), ...]."""
    return {name: [[tuple(part) for part in block] for block in blocks]
            for name, blocks in driver.execute_script(READ_PAGE)[2].items()}


def frame_blocks(page, allocator, step):
    """The blocks of \p step (from 1) as `heaplab` wrote them into \p page's data."""
    with open(page, encoding="utf-8") as html:
        text = html.read()
    start = text.index('<script type="application/json" id="heaplab-data">')
    data = json.loads(text[text.index(">", start) + 1:text.index("</script>", start)])
    heap = next(heap for heap in data["allocators"] if heap["name"] == allocator)
    return heap["frames"][step - 1]["blocks"]


def expected_parts(block):
    """The parts a block of a frame must be drawn with, in address order."""
    _, _, size, allocated, known, requested, header, footer, links = block
    inside = size - header - footer
    if not allocated:
        middle = [("links", links), ("free", inside - links)]
    elif known >= 0:
        middle = [("asked", requested), ("padding", inside - requested)]
    else:
        middle = [("body", inside)]
    return [part for part in [("header", header), *middle, ("footer", footer)] if part[1] > 0]


def check_parts(page, allocators, step, drawn):
    """Fails unless every block at \p step is drawn with the parts its walk gives, adding up to its size."""
    for name in allocators:
        blocks = frame_blocks(page, name, step)
        for index, (block, parts) in enumerate(zip(blocks, drawn[name])):
            if parts != expected_parts(block):
                fail(f"{name} at step {step}, block {index}: the page draws {parts}, "
                     f"its walk gives {expected_parts(block)}")
            if sum(bytes_ for _, bytes_ in parts) != block[2]:
                fail(f"{name} at step {step}, block {index}: the parts do not add up to its {block[2]} bytes")


def step_label(driver):
    """The page's step label now."""
    return driver.find_element("id", "step").text


def main():
    parser = argparse.ArgumentParser(description="Check a heaplab map page in a real browser.")
    parser.add_argument("--heaplab", required=True)
    parser.add_argument("--trace", required=True)
    parser.add_argument("--allocators", required=True)
    parser.add_argument("--step", type=int, required=True, help="the step to compare, from 1")
    parser.add_argument("--work", required=True)
    arguments = parser.parse_args()
    allocators = arguments.allocators.split(",")
    os.makedirs(arguments.work, exist_ok=True)
    page = os.path.join(arguments.work, "map.html")
    subprocess.run([arguments.heaplab, "map", "--html", page, arguments.trace, *allocators], check=True,
                   capture_output=True, timeout=120)
    expected = {name: map_lines(arguments.heaplab, arguments.trace, name) for name in allocators}
    steps = len(expected[allocators[0]])
    if not 1 <= arguments.step <= steps:
        fail(f"step {arguments.step} is not one of the trace's {steps}")

    driver = headless_chromium.browser("check_map_page")
    try:
        driver.get("file://" + os.path.abspath(page))
        label, heaps = shown(driver)
        if label != f"step 1 of {steps}:":
            fail(f"the page opens at '{label}', not at step 1 of {steps}")
        next_button = driver.find_element("id", "next")
        for _ in range(arguments.step - 1):
            next_button.click()
        label, heaps = shown(driver)
        if label != f"step {arguments.step} of {steps}:":
            fail(f"after {arguments.step - 1} clicks on 'next' the page shows '{label}'")
        for name in allocators:
            want = expected[name][arguments.step - 1]
            if heaps.get(name) != want:
                fail(f"{name} at step {arguments.step}: the page draws {heaps.get(name)}, heaplab map prints {want}")
        check_parts(page, allocators, arguments.step, shown_parts(driver))
        if driver.find_element("id", "slider").get_attribute("value") != str(arguments.step - 1):
            fail("the slider does not follow the step")
        driver.find_element("id", "last").click()
        if step_label(driver) != f"step {steps} of {steps}:":
            fail("'last' does not go to the last step")
        driver.find_element("id", "first").click()
        driver.find_element("id", "play").click()
        time.sleep(1.5)
        if step_label(driver) == f"step 1 of {steps}:":
            fail("'play' does not move the steps on")
        driver.find_element("id", "play").click()
        errors = headless_chromium.console_errors(driver)
        if errors:
            fail(f"the browser logged an error: {errors[0]}")
    finally:
        driver.quit()
    print(f"the page shows what heaplab map prints at step {arguments.step} of {steps} for {', '.join(allocators)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
