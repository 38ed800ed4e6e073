"""The edgeops.gitops.drift callback: same report as ``edgeops drift --format json``.

Runs plain ansible-playbook --check --diff with the callback enabled on the
fixture playbook (local hosts) and compares with the CLI's report of the same
state.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[4]
PLAYBOOK = ROOT / "tests" / "unit" / "fixtures" / "events" / "playbooks" / "scenarios.yml"
SCHEMA = json.loads((ROOT / "docs" / "drift-report.schema.json").read_text())
SECRET = "cb-S3cret-77"


def _inventory(tmp: Path) -> Path:
    hosts = {
        "node-a": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                   "fixture_secret": SECRET},
        "node-gone": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1},
    }
    inv = tmp / "hosts.json"
    inv.write_text(json.dumps({"all": {"hosts": hosts, "vars": {"edgeops_fixture_dir": str(tmp / "files")}}}))
    (tmp / "files").mkdir()
    return inv


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in report.items() if k not in ("started_at", "finished_at", "run")}
    for h in out["hosts"]:
        for c in h["concerns"]:
            c.pop("play", None)
            if c["status"] in ("unchecked", "skipped"):
                # ansible-runner's skipped events carry no result: the CLI tells a check-mode skip
                # from a conditional one by timing (tests/unit/cli covers it), the callback reads it.
                c["status"], c["message"] = "skipped or unchecked", None
    return out


def test_callback_report_equals_cli_report(tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    env = {
        **os.environ,
        "ANSIBLE_CALLBACKS_ENABLED": "edgeops.gitops.drift",
        "EDGEOPS_DRIFT_REPORT": str(tmp_path / "cb.json"),
        "EDGEOPS_DRIFT_JUNIT": str(tmp_path / "cb.xml"),
        "NO_COLOR": "1",
    }
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inv), str(PLAYBOOK), "--check", "--diff", "-e", "fixture_reload=true"],
        env=env, capture_output=True, text=True, check=False, cwd=PLAYBOOK.parent,
    )
    assert proc.returncode != 0  # node-gone is unreachable
    assert "DRIFT SUMMARY: ERROR (exit 1)" in proc.stdout
    keys = "[net.core.somaxconn, net.ipv4.tcp_max_syn_backlog]"
    assert f"drifted     node-a: Runtime values {keys}" in proc.stdout
    assert SECRET not in proc.stdout
    cb = json.loads((tmp_path / "cb.json").read_text())
    jsonschema.validate(cb, SCHEMA)
    assert cb["run"]["check"] is True and cb["run"]["inventory"] == str(inv)
    statuses = {(h["name"], c["name"]): c["status"] for h in cb["hosts"] for c in h["concerns"]}
    assert statuses[("node-a", "Database password file")] == "drifted"  # no_log, still reported
    assert statuses[("node-a", "Reload the profile")] == "unchecked"  # skipped by check mode
    assert statuses[("node-a", "Health probe")] == "skipped"  # skipped by its condition
    assert statuses[("node-gone", "Kernel profile file")] == "unreachable"
    assert SECRET not in (tmp_path / "cb.json").read_text() + (tmp_path / "cb.xml").read_text()

    # the CLI on the same state gives the same report
    sys.path.insert(0, str(ROOT))
    from edgeops.cli import main

    os.environ["EDGEOPS_AUDIT_LOG"] = str(tmp_path / "audit.jsonl")
    os.environ["EDGEOPS_ARTIFACTS_DIR"] = str(tmp_path / "art")
    extra = tmp_path / "extra.yml"  # the CLI has no -e: same variable through the inventory
    data = json.loads(inv.read_text())
    data["all"]["hosts"]["node-a"]["fixture_reload"] = True
    extra.write_text(json.dumps(data))
    try:
        rc = main(["drift", str(PLAYBOOK), "-i", str(extra), "-o", str(tmp_path / "cli.json")])
    finally:
        del os.environ["EDGEOPS_AUDIT_LOG"], os.environ["EDGEOPS_ARTIFACTS_DIR"]
    assert rc == 1
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert _comparable(cb) == _comparable(cli)


@pytest.mark.parametrize("summary", ["false"])
def test_summary_can_be_turned_off_and_nothing_written_without_path(tmp_path: Path, summary: str) -> None:
    inv = _inventory(tmp_path)
    env = {**os.environ, "ANSIBLE_CALLBACKS_ENABLED": "edgeops.gitops.drift",
           "EDGEOPS_DRIFT_SUMMARY": summary}
    env.pop("EDGEOPS_DRIFT_REPORT", None)
    proc = subprocess.run(
        ["ansible-playbook", "-i", str(inv), str(PLAYBOOK), "--check", "--limit", "node-a"],
        env=env, capture_output=True, text=True, check=False, cwd=PLAYBOOK.parent,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "DRIFT SUMMARY" not in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["files", "hosts.json"]
