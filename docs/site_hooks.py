"""MkDocs hooks of the documentation site (``hooks:`` in mkdocs.yml).

The site is built from ``docs/``, but some of what it shows lives elsewhere in the
repository and must not be copied (a copy would drift):

- ``<!-- include: PATH -->`` or ``<!-- include: PATH#heading-anchor -->`` on a line of
  its own is replaced by that repository file, or by the body of that section of a
  Markdown file. Links in included Markdown are rewritten as if they were written in the
  including page.
- A relative link to a repository file outside ``docs/`` becomes a link to its page on
  the site (``PAGES``) or to the file on GitHub; a link to a file that does not exist
  is left alone, so strict mode reports it.
- ``bench/results/results.png`` is published as ``assets/bench-results.png``.
- Sphinx roles left in the stub's docstrings (``:meth:`accept```) become links to the
  member they name in the API reference, or plain code when it has no entry; reST's
  ``::`` literal-block markers are dropped.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the module imports without MkDocs (tests/docs expand includes with it)
    from mkdocs.structure.files import Files

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BLOB = "https://github.com/web-transport-py/web-transport-py/blob/main/"
ASSETS = {"assets/bench-results.png": ROOT / "bench" / "results" / "results.png"}
# Repository files that the site renders as pages: links to them go to the page.
PAGES = {ROOT / "MATURIN_COMPLIANCE.md": DOCS / "compliance.md"}

INCLUDE = re.compile(r"^<!-- include: (?P<path>[^#\s]+)(?:#(?P<anchor>[\w-]+))? -->$", re.M)
LINK = re.compile(r"(?<=\]\()(?P<target>[^)\s]+)(?=\))")
HEADING = re.compile(r"^(#{1,6}) (.*)$")
# The opening or closing line of a fenced code block: its fence, and what follows it.
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
ROLE = re.compile(r":(?:meth|attr|class|func|exc|data|mod):<code>([\w.]+)</code>")
OBJECT_ID = re.compile(r'id="(web_transport\.[\w.]+)"')


def slug(title: str) -> str:
    """The anchor Python-Markdown's toc extension gives a heading (default slugify)."""
    text = re.sub(r"[^\w\s-]", "", title.replace("`", "")).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _outside_link(path: Path, fragment: str) -> str | None:
    if not path.exists():
        return None
    return BLOB + path.relative_to(ROOT).as_posix() + fragment


def _rewrite_link(target: str, source: Path, page: Path) -> str:
    """``target``, written in file ``source``, as a link from docs page ``page``."""
    if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("/"):
        return target
    path_part, _, anchor = target.partition("#")
    fragment = f"#{anchor}" if anchor else ""
    resolved = (source.parent / path_part).resolve() if path_part else source
    resolved = PAGES.get(resolved, resolved)
    if DOCS in resolved.parents and resolved.suffix != ".py":
        if resolved == page:
            return fragment or target
        rel = posixpath.relpath(resolved.as_posix(), page.parent.as_posix())
        return rel + fragment
    return _outside_link(resolved, fragment) or target


def _headings(lines: list[str]) -> list[tuple[int, int, str] | None]:
    """Per line, ``(index, level, title)`` if it is a Markdown heading, else None. A line
    inside a fenced code block is never a heading (``# comment`` in a Python block)."""
    out: list[tuple[int, int, str] | None] = []
    fence = ""
    for i, line in enumerate(lines):
        opener = FENCE.match(line)
        if fence:
            if opener and opener.group(1).startswith(fence) and not opener.group(2).strip():
                fence = ""
            out.append(None)
        elif opener:
            fence = opener.group(1)
            out.append(None)
        else:
            match = HEADING.match(line)
            out.append((i, len(match.group(1)), match.group(2)) if match else None)
    return out


def _section(text: str, anchor: str, path: Path) -> str:
    """The body of the section of Markdown ``text`` whose heading has ``anchor``: up to
    the next heading of the same or a higher level, headings in code blocks ignored."""
    lines = text.splitlines()
    headings = _headings(lines)
    for found in headings:
        if found and slug(found[2]) == anchor:
            start, level, _ = found
            end = next((h[0] for h in headings[start + 1 :] if h and h[1] <= level), len(lines))
            return "\n".join(lines[start + 1 : end]).strip("\n")
    raise ValueError(f"{path}: no heading with anchor #{anchor}")


def _include(match: re.Match[str], page: Path) -> str:
    source = ROOT / match.group("path")
    text = source.read_text(encoding="utf-8")
    anchor = match.group("anchor")
    body = _section(text, anchor, source) if anchor else text.rstrip("\n")
    if source.suffix != ".md":
        return body
    return LINK.sub(lambda m: _rewrite_link(m.group("target"), source, page), body)


def on_files(files: Files, config: Any) -> Files:
    from mkdocs.structure.files import File

    for uri, source in ASSETS.items():
        files.append(File.generated(config, uri, abs_src_path=str(source)))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    page_path = Path(page.file.abs_src_path).resolve()
    markdown = LINK.sub(lambda m: _rewrite_link(m.group("target"), page_path, page_path), markdown)
    return INCLUDE.sub(lambda m: _include(m, page_path), markdown)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    # A reST literal-block marker ("::" before an indented block) rendered as a paragraph.
    html = html.replace("<p>::</p>\n", "")
    if ":<code>" not in html:
        return html
    anchors = [(m.start(), m.group(1)) for m in OBJECT_ID.finditer(html)]
    ids = {name for _, name in anchors}

    def link(match: re.Match[str]) -> str:
        name = match.group(1)
        # The class whose documentation the role is in: the last object id before it.
        owner = next((i for at, i in reversed(anchors) if at < match.start()), "")
        parts = owner.split(".")
        cls = ".".join(parts[:2]) if len(parts) >= 2 else "web_transport"
        for target in (f"{cls}.{name}", f"web_transport.{name}"):
            if target in ids:
                return f'<a href="#{target}"><code>{name}</code></a>'
        return f"<code>{name}</code>"

    return ROLE.sub(link, html)
