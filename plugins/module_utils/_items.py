# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What differs between two texts of a configuration file, as drift report items.

The one home of this rule: the modules that read a concern in one call
(kubeadm_node, mysql_host_state) return these items as ``changes``, and the
drift report builder (plugin_utils/_drift_report.py) derives the same items
from a task's file ``diff``. No Ansible imports.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, Iterable, List, Sequence, Tuple

#: One item of a concern's plan: key, before, after, and where/path when known.
Item = Dict[str, Any]
#: Runs a command: ``run(argv) -> (rc, stdout, stderr)``.
Run = Callable[[List[str]], Tuple[int, str, str]]

_KV_LINE = re.compile(r"^\s*([A-Za-z0-9_.\-/\[\]]+)\s*(?:=|:\s)\s*(.*?)\s*$")


def key_values(text: str) -> tuple[dict[str, str], list[str]]:
    """``key = value`` / ``key: value`` lines of a config file, and the other content lines."""
    pairs: dict[str, str] = {}
    other: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";", "//")) or (line.startswith("[") and line.endswith("]")):
            continue  # comments, blank lines, [section] headers
        m = _KV_LINE.match(line)
        if m:
            pairs[m.group(1)] = m.group(2)
        else:
            other.append(line)
    return pairs, other


def text_items(before: str | None, after: str | None, path: str | None) -> list[Item]:
    """Items ``{key, before, after, where, path}`` for a file whose text went from ``before`` to ``after``.

    One item per ``key = value`` that differs, plus one ``content`` item counting the
    other lines that differ (never the lines themselves). ``None`` is an absent file.
    """
    b_pairs, b_other = key_values(before or "")
    a_pairs, a_other = key_values(after or "")
    items = [
        {"key": k, "before": b_pairs.get(k), "after": a_pairs.get(k), "where": ["file"], "path": path}
        for k in sorted(set(b_pairs) | set(a_pairs))
        if b_pairs.get(k) != a_pairs.get(k)
    ]
    removed = [line for line in b_other if line not in a_other]
    added = [line for line in a_other if line not in b_other]
    if removed or added or (not items and before != after):
        items.append(
            {
                "key": "content",
                "before": f"{len(removed)} line(s) not in Git" if before else "absent",
                "after": f"{len(added)} line(s) from Git" if after else "absent",
                "where": ["file"],
                "path": path,
            }
        )
    return items


def read_file(path: str) -> str | None:
    """A file's text, or None when it does not exist (any other error is raised)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def unit_state(name: str, run: Run) -> tuple[str, str]:
    """``(systemctl is-enabled, systemctl is-active)`` of a unit, as systemctl prints them."""
    return run(["systemctl", "is-enabled", name])[1].strip(), run(["systemctl", "is-active", name])[1].strip()


def service_items(services: Iterable[str], run: Run) -> list[Item]:
    """An item per systemd unit that is not enabled and active (``run(argv) -> (rc, out, err)``)."""
    items: list[Item] = []
    for name in services:
        enabled, active = unit_state(name, run)
        enabled, active = enabled or "not-found", active or "unknown"
        if enabled != "enabled" or active != "active":
            items.append(
                {"key": "service " + name, "before": f"{enabled}, {active}", "after": "enabled, active"}
            )
    return items


def missing_packages(packages: Sequence[str], run: Run) -> list[str]:
    """The Debian packages dpkg does not list as installed (``run(argv) -> (rc, out, err)``)."""
    if not packages:
        return []
    _rc, out, _err = run(["dpkg-query", "-W", "-f", "${Package} ${db:Status-Abbrev}\\n", *list(packages)])
    installed = {
        line.split()[0] for line in out.splitlines() if len(line.split()) > 1 and line.split()[1] == "ii"
    }
    return [p for p in packages if p not in installed]


def plan_result(items: list[Item], check_mode: bool, diff: bool, header: str) -> dict[str, Any]:
    """What a read-only concern module returns for its plan: ``plan`` (the keys), ``changes`` (the items),
    ``changed`` (in check mode only: the module changes nothing itself) and, in diff mode, a ``diff``
    of the items' before and after values under ``header``."""
    result: dict[str, Any] = {"plan": [i["key"] for i in items], "changes": items,
                              "changed": check_mode and bool(items)}
    if diff and items:
        result["diff"] = {
            "before": "".join(f"{i['key']}: {i['before']}\n" for i in items),
            "after": "".join(f"{i['key']}: {i['after']}\n" for i in items),
            "before_header": header,
            "after_header": header,
        }
    return result
