"""The book's pages and their prose, for the tools of tools/book/: which
Markdown files are pages, and which of their lines are not code."""

import glob
import os


def chapter_pages(root):
    """Every chapter page: each stage folder's Markdown files, sorted."""
    return sorted(glob.glob(os.path.join(root, "stage[0-9]_*", "*.md")))


def book_pages(root):
    """Every page of the book but the README: the chapters, then docs/."""
    return chapter_pages(root) + sorted(glob.glob(os.path.join(root, "docs", "*.md")))


def prose(lines):
    """(number from 1, line) for each line of \\p lines outside fenced code
    blocks; the fences themselves are left out too."""
    fenced = False
    for number, line in enumerate(lines, 1):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            yield number, line
