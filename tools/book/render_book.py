#!/usr/bin/env python3
"""The book as plain Markdown, with its code: docs/book/.

The chapters and the docs pages are written for Doxygen, which fills in the
code they quote (`\\snippet file tag`), their links (`\\ref id`,
`\\subpage id`), their tables of contents (`[TOC]`) and their anchors
(`{#id}`). Read in an editor or on a code host, those would show as raw
commands. This script writes each page again into docs/book/ with all of
them resolved, the quoted code copied in from the sources, so that the
Markdown pages read as the HTML does:

    render_book.py --source ROOT            writes docs/book/ from the pages
    render_book.py --source ROOT --check    exits 1, naming the stale pages,
                                            when docs/book/ is not what it
                                            would write (a CTest test)

The pages are the README, every chapter's *.md and docs/*.md; a page's
book name is its path with '/' as '_' and README dropped for a folder's
own page (stage1_static_bump/README.md -> stage1_static_bump.md).
"""

import argparse
import os
import re
import sys
from dataclasses import dataclass

from pages import book_pages, prose

#: Where the book goes, from the repository's root.
BOOK_DIR = os.path.join("docs", "book")
#: A heading with its Doxygen anchor: "## Title {#id}".
HEADING = re.compile(r"^(#+) (.*?) \{#([A-Za-z0-9_]+)\}\s*$")
#: `\snippet path tag` on a line of its own.
SNIPPET = re.compile(r"^\\snippet (\S+) (\S+)\s*$")
#: `\ref id "text"`, `\ref id`, `\subpage id "text"`, `\subpage id`.
REF = re.compile(r'\\(?:ref|subpage) ([A-Za-z0-9_:]+)(?: "([^"]*)")?')
#: `\image html file "caption"`.
IMAGE = re.compile(r'^\\image html (\S+)(?: "([^"]*)")?\s*$')
#: A chart embedded in the HTML: <object data="file" ...>caption</object>.
EMBEDDED_CHART = re.compile(r'<object data="([^"]+)"[^>]*>([^<]*)</object>')
#: A page embedded in the HTML: <iframe src="file" ...>caption</iframe>.
EMBEDDED_PAGE = re.compile(r'<iframe src="([^"]+)"[^>]*>([^<]*)</iframe>')
#: A Markdown link's target: `](target)`.
LINK = re.compile(r"\]\(([^)\s]+)\)")
#: The languages of the quoted files, by ending.
LANGUAGES = {".hpp": "cpp", ".cpp": "cpp", ".h": "c", ".c": "c", ".cmake": "cmake", ".txt": "cmake",
             ".py": "python", ".sh": "sh"}


class BookError(Exception):
    """A page that cannot be rendered: a snippet or an anchor not found."""


@dataclass
class Page:
    """One page of the book: where it is written, and what it becomes."""

    source: str   #: its path from the root, e.g. "stage1_static_bump/README.md"
    book: str     #: its file name in docs/book/
    text: str     #: its Markdown as written for Doxygen


def book_name(source):
    """The file name of \\p source's page in docs/book/."""
    folder, name = os.path.split(source)
    if name == "README.md":
        return "README.md" if folder == "" else folder.replace("/", "_") + ".md"
    if folder == "docs":
        return name
    return (folder.replace("/", "_") + "_" if folder else "") + name


def find_pages(root):
    """Every page of the book: the README, the chapters, docs/."""
    sources = ["README.md"] + [os.path.relpath(path, root) for path in book_pages(root)]
    found = []
    for source in sources:
        with open(os.path.join(root, source), encoding="utf-8") as file:
            found.append(Page(source, book_name(source), file.read()))
    return found


def anchors_of(pages):
    """id -> (book file, title, whether it is the page's own id), over every page."""
    anchors = {}
    for page in pages:
        first = True
        for _, line in prose(page.text.splitlines()):
            match = HEADING.match(line)
            if match:
                anchors[match.group(3)] = (page.book, match.group(2), first)
            if line.strip():
                first = False
    return anchors


def joined_refs(text):
    """\p text with every `\ref` whole on one line: a reference that the
    page's line breaking cut after `\ref` or before its "text" is joined up
    (the rest of the next line stays where it was)."""
    text = re.sub(r"\\(ref|subpage)[ \t]*\n[ \t]*(?=[A-Za-z0-9_:]+)", r"\\\1 ", text)
    return re.sub(r'(\\(?:ref|subpage) [A-Za-z0-9_:]+)[ \t]*\n([ \t]*)"([^"\n]*)"', r'\1 "\3"\n\2', text)


def snippet(root, path, tag):
    """The lines of \\p path between its two lines marked [tag], as Doxygen quotes them."""
    try:
        with open(os.path.join(root, path), encoding="utf-8") as file:
            lines = file.read().splitlines()
    except OSError as error:
        raise BookError(f"\\snippet {path} {tag}: {error.strerror}") from error
    marks = [i for i, line in enumerate(lines) if f"[{tag}]" in line]
    if len(marks) < 2:
        raise BookError(f"\\snippet {path} {tag}: the file has no pair of [{tag}] lines")
    body = lines[marks[0] + 1:marks[1]]
    indent = min((len(l) - len(l.lstrip()) for l in body if l.strip()), default=0)
    return [l[indent:] for l in body]


#: Bold that opens on a code span or a bracket, which Doxygen 1.9 leaves as
#: literal asterisks in its HTML: such bold is written <b>...</b>.
DOXYGEN_LITERAL_BOLD = re.compile(r"\*\*[`(\[]")


#: The longest page title the HTML's sidebar (TREEVIEW_WIDTH) shows whole.
LONGEST_TITLE = 56


def check_doxygen_markdown(page):
    """Raises BookError at the first line of \p page that Doxygen's HTML would show wrongly."""
    title = HEADING.match(page.text.splitlines()[0])
    if title and len(title.group(2)) > LONGEST_TITLE:
        raise BookError(f"{page.source}:1: the title is longer than the sidebar shows ({LONGEST_TITLE} characters)")
    for number, line in enumerate(page.text.splitlines(), 1):
        if DOXYGEN_LITERAL_BOLD.search(line) and not line.startswith("    "):
            raise BookError(f"{page.source}:{number}: bold that opens on code or a bracket shows its ** "
                            "in the HTML: write <b>...</b>")


class Renderer:
    """Renders pages of one book: every page knows every other's anchors."""

    def __init__(self, root, pages):
        self.root = root
        self.pages = {page.source: page for page in pages}
        self.anchors = anchors_of(pages)

    def link(self, page, anchor):
        """The link from \\p page to \\p anchor: "#id", "other.md#id", or "other.md" for a page."""
        book, _, own = self.anchors[anchor]
        if own:
            return book if book != page.book else "#" + anchor
        return ("" if book == page.book else book) + "#" + anchor

    def ref(self, page, match):
        """A `\\ref` or `\\subpage` as a Markdown link (a name Doxygen links to code stays code)."""
        anchor, text = match.group(1), match.group(2)
        if anchor not in self.anchors:
            if "::" in anchor or anchor[0].isupper():
                return f"`{text or anchor}`"
            raise BookError(f"{page.source}: \\ref {anchor}: no page or section has this id")
        return f"[{text or self.anchors[anchor][1]}]({self.link(page, anchor)})"

    def target(self, page, target):
        """A Markdown link's target, from docs/book/ instead of the page's folder."""
        if re.match(r"^[a-z]+:", target):
            return target  # an address: as it is
        if target.startswith("#"):
            anchor = target[1:]
            return self.link(page, anchor) if anchor in self.anchors else target
        path, _, fragment = target.partition("#")
        repo_path = os.path.normpath(os.path.join(os.path.dirname(page.source), path))
        if repo_path in self.pages:
            book = self.pages[repo_path].book
            return book + ("#" + fragment if fragment else "")
        return os.path.relpath(repo_path, BOOK_DIR).replace(os.sep, "/") + ("#" + fragment if fragment else "")

    def contents(self, page):
        """The page's table of contents, for `[TOC]`: its sections, as links."""
        items = []
        for _, line in prose(page.text.splitlines()):
            match = HEADING.match(line)
            if match and len(match.group(1)) in (2, 3):
                items.append("  " * (len(match.group(1)) - 2) + f"- [{match.group(2)}](#{match.group(3)})")
        return items

    def inline(self, page, line):
        """One line of prose: its references and link targets resolved. The
        page's own link targets first, as they are relative to its folder;
        a reference becomes a link already relative to docs/book/."""
        line = LINK.sub(lambda m: "](" + self.target(page, m.group(1)) + ")", line)
        return REF.sub(lambda m: self.ref(page, m), line)

    def html_block(self, page, html):
        """An `\\htmlonly` block: a chart embedded as <object> becomes its
        image; a page embedded in an <iframe> (`heaplab map --html`) becomes
        a line that says where to see it."""
        chart = EMBEDDED_CHART.fullmatch(html.strip())
        if chart:
            return f"![{chart.group(2)}](../images/{chart.group(1)})"
        frame = EMBEDDED_PAGE.fullmatch(html.strip())
        if frame:
            return (f"*The HTML docs show {frame.group(2)} here, as a page to step through; "
                    "the command above writes it.*")
        raise BookError(f"{page.source}: an \\htmlonly block the book cannot show: {html.strip()[:60]}")

    def render(self, page):
        """\\p page as plain Markdown (see the file comment)."""
        out = [f"<!-- Generated from {page.source} by tools/book/render_book.py, with the code it quotes:",
               "     edit that page, then run `cmake --build --preset dev --target book`. -->", ""]
        fenced = False
        html = None  # the lines of an \\htmlonly block being read
        for line in joined_refs(page.text).splitlines():
            if line.startswith("```"):
                fenced = not fenced
                out.append(line)
                continue
            if fenced:
                out.append(line)
                continue
            if line.strip() == "\\htmlonly":
                html = []
                continue
            if html is not None:
                if line.strip() != "\\endhtmlonly":
                    html.append(line)
                    continue
                out.append(self.html_block(page, "\n".join(html)))
                html = None
                continue
            heading = HEADING.match(line)
            quoted = SNIPPET.match(line)
            image = IMAGE.match(line)
            if heading:
                out += [f'<a id="{heading.group(3)}"></a>', "",
                        f"{heading.group(1)} {self.inline(page, heading.group(2))}"]
            elif line.strip() == "[TOC]":
                out += self.contents(page)
            elif quoted:
                path, tag = quoted.groups()
                language = LANGUAGES.get(os.path.splitext(path)[1], "")
                out += [f"```{language}", *snippet(self.root, path, tag), "```",
                        f"<sub>From [{path}](../../{path}).</sub>"]
            elif image:
                file, caption = image.groups()
                out.append(f"![{caption or file}](../images/{file})")
            else:
                out.append(self.inline(page, line))
        return "\n".join(out).rstrip("\n") + "\n"


def main():
    parser = argparse.ArgumentParser(description="Write the book's pages as plain Markdown with their code.")
    parser.add_argument("--source", required=True, help="the repository's root")
    parser.add_argument("--check", action="store_true", help="fail if docs/book/ is not up to date")
    arguments = parser.parse_args()
    root = arguments.source
    try:
        pages = find_pages(root)
        for page in pages:
            check_doxygen_markdown(page)
        renderer = Renderer(root, pages)
        rendered = {page.book: renderer.render(page) for page in pages}
    except (BookError, OSError) as error:
        print(f"render_book: {error}", file=sys.stderr)
        return 2
    book_dir = os.path.join(root, BOOK_DIR)
    existing = set(n for n in os.listdir(book_dir) if n.endswith(".md")) if os.path.isdir(book_dir) else set()
    if arguments.check:
        stale = [name for name, text in rendered.items()
                 if not os.path.exists(os.path.join(book_dir, name))
                 or open(os.path.join(book_dir, name), encoding="utf-8").read() != text]
        stale += sorted(existing - set(rendered))
        for name in stale:
            print(f"docs/book/{name} is not up to date: run `cmake --build --preset dev --target book`")
        return 1 if stale else 0
    os.makedirs(book_dir, exist_ok=True)
    for name in existing - set(rendered):
        os.remove(os.path.join(book_dir, name))
    for name, text in rendered.items():
        with open(os.path.join(book_dir, name), "w", encoding="utf-8") as file:
            file.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
