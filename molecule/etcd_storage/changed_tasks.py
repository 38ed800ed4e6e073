#!/usr/bin/env python3
"""Run converge.yml against the instance and print which tasks reported a change.

Usage: changed_tasks.py [--check] [ansible-playbook args...]
Prints JSON: {"rc": int, "changed": [task names], "items": [keys of the changed results' `changes`],
"failed": [task names], "msgs": [failure messages]}.
Read from the ansible.posix.json callback, never from human output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    env = dict(os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
               ANSIBLE_CALLBACK_RESULT_FORMAT="json", LANG="C.UTF-8")
    inventory = env["MOLECULE_INVENTORY_FILE"]
    cmd = ["ansible-playbook", "-i", inventory, str(HERE / "converge.yml"), *argv]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(json.dumps({"rc": proc.returncode, "changed": [], "items": [], "failed": ["<no json>"],
                          "msgs": [proc.stdout[-2000:], proc.stderr[-2000:]]}))
        return 0
    changed, items, failed, msgs = [], [], [], []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            for result in task.get("hosts", {}).values():
                name = task["task"]["name"]
                if result.get("changed"):
                    changed.append(name)
                    items.extend(c["key"] for c in result.get("changes") or [] if isinstance(c, dict))
                if result.get("failed"):
                    failed.append(name)
                    msgs.append(f"{result.get('assertion', '')} {result.get('msg', '')}".strip())
    print(json.dumps({"rc": proc.returncode, "changed": changed, "items": sorted(items), "failed": failed,
                      "msgs": msgs}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
