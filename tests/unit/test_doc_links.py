"""The project's documentation stands alone: every Markdown link resolves inside the repository,
or points to public upstream documentation.

A user who clones the repository (or installs the collection) gets every page a link names;
links to the maintainers' own notes outside the tree would be dead for them.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Public upstream documentation and source the docs may cite (host, path prefix).
UPSTREAM = (
    ("docs.ansible.com", "/"),
    ("github.com", "/ansible/"),
    ("github.com", "/ansible-community/"),
    ("kubernetes.io", "/docs/"),
    ("etcd.io", "/docs/"),
    ("dev.mysql.com", "/doc/"),
    ("mariadb.com", "/kb/"),
    ("docs.kernel.org", "/"),
    ("www.kernel.org", "/doc/"),
    ("docs.podman.io", "/"),
    ("www.debian.org", "/doc/"),
)

# [text](target) and [text](target "title"), not images' inline data; <https://...> autolinks.
_INLINE = re.compile(r"(?<!\!)\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^>\s]+)>")
_REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")


def _docs() -> list[Path]:
    tracked = subprocess.run(["git", "ls-files", "*.md"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.split()
    # changelog fragments and kubeadm goldens are not documentation
    return [ROOT / p for p in tracked if not p.startswith(("changelogs/", "tests/"))]


def links(text: str) -> list[str]:
    """Link targets of a Markdown text, outside code blocks and code spans."""
    text = _CODE_SPAN.sub("", _FENCE.sub("", text))
    # indented code blocks (4 spaces after a blank line) hold example commands, not links
    text = re.sub(r"(?m)^(?: {4}|\t).*$", "", text)
    return [*_INLINE.findall(text), *_AUTOLINK.findall(text), *_REFERENCE.findall(text)]


def parent_paths(text: str) -> list[str]:
    """Paths in code spans that climb out of the page's directory (``../shared/DESIGN.md``)."""
    return [span.strip("`") for span in _CODE_SPAN.findall(text) if span.strip("`").startswith("../")]


def problem(doc: Path, target: str) -> str | None:
    """Why ``target`` (a link in ``doc``) does not stand alone, or None."""
    parts = urlsplit(target)
    if parts.scheme in ("http", "https"):
        if any(parts.hostname == host and parts.path.startswith(prefix) for host, prefix in UPSTREAM):
            return None
        return f"{target} leaves the repository and is not public upstream documentation"
    if parts.scheme or target.startswith("//"):
        return f"{target}: only relative links and https links to upstream documentation"
    if not parts.path:  # "#anchor" in the same page
        return None
    resolved = (doc.parent / unquote(parts.path)).resolve()
    if not resolved.is_relative_to(ROOT):
        return f"{target} points outside the repository ({resolved})"
    if not resolved.exists():
        return f"{target} does not exist ({resolved.relative_to(ROOT)})"
    return None


def test_the_docs_are_found():
    names = {p.relative_to(ROOT).as_posix() for p in _docs()}
    assert {"README.md", "CONTRIBUTING.md", "roles/kubeadm/README.md", "docs/audit.md"} <= names


@pytest.mark.parametrize("doc", _docs(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_links_stand_alone(doc: Path):
    text = doc.read_text(encoding="utf-8")
    found = [problem(doc, target) for target in [*links(text), *parent_paths(text)]]
    assert [p for p in found if p] == []


@pytest.mark.parametrize(("target", "words"), [
    ("../shared/DESIGN.md", "points outside the repository"),
    ("docs/missing.md", "does not exist"),
    ("https://example.com/notes", "leaves the repository"),
    ("file:///etc/passwd", "only relative links"),
])
def test_bad_links_are_caught(target, words):
    assert words in (problem(ROOT / "README.md", target) or "")


@pytest.mark.parametrize("target", ["docs/audit.md", "#variables", "roles/kubeadm/README.md#variables",
                                    "https://docs.ansible.com/ansible/latest/index.html"])
def test_good_links_pass(target):
    assert problem(ROOT / "README.md", target) is None


def test_a_path_named_in_code_outside_the_repository_is_caught():
    text = "`../shared/DESIGN.md` is the design; `../README.md` too; `make`"
    found = [problem(ROOT / "README.md", p) for p in parent_paths(text)]
    assert found[0] is not None and "points outside the repository" in found[0]
    assert len(found) == 2


def test_links_outside_code():
    text = "see [a](docs/a.md) and `[b](b.md)`\n\n```\n[c](c.md)\n```\n<https://docs.ansible.com/x>"
    assert links(text) == ["docs/a.md", "https://docs.ansible.com/x"]
