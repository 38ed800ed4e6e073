"""The roles run on every ansible-core that meta/runtime.yml admits, not only on the newest.

``meta: end_role`` (ansible-core 2.18) would end a role without a worker process per host, but
ansible-core 2.16 and 2.17 fail on it ("invalid meta action requested"), whatever its ``when``
says. The unit matrix on the older cores tests the plugins only, so this catches it at once.
"""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
#: meta actions and the first ansible-core minor that knows them.
NEWER_META = {"end_role": (2, 18)}


def _oldest_core() -> tuple[int, int]:
    spec = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["requires_ansible"]
    assert spec.startswith(">="), spec
    major, minor = spec[2:].split(".")[:2]
    return int(major), int(minor)


def _tasks(node: object):
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        yield node
        for key in ("block", "rescue", "always"):
            yield from _tasks(node.get(key))


def test_no_meta_action_newer_than_the_oldest_admitted_core() -> None:
    oldest = _oldest_core()
    found = []
    for path in sorted((ROOT / "roles").glob("*/tasks/*.yml")) + sorted((ROOT / "playbooks").glob("*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text())):
            action = task.get("ansible.builtin.meta", task.get("meta"))
            if isinstance(action, str) and NEWER_META.get(action, oldest) > oldest:
                found.append(f"{path.relative_to(ROOT)}: meta {action}")
    assert found == []


def test_the_check_finds_end_role(tmp_path: Path) -> None:
    task = yaml.safe_load("- name: End\n  ansible.builtin.meta: end_role\n  when: ansible_check_mode\n")
    actions = [t.get("ansible.builtin.meta") for t in _tasks(task)]
    assert actions == ["end_role"] and NEWER_META["end_role"] > _oldest_core()
