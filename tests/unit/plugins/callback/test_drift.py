"""The edgeops.gitops.drift callback builds the report; ``edgeops drift`` reads the same one.

Runs plain ansible-playbook --check --diff with the callback enabled on the
fixture playbook (local hosts) and compares with the CLI's report of the same
state: byte for byte, once the two timestamps are removed.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parents[4]
PLAYBOOK = ROOT / "tests" / "unit" / "fixtures" / "playbooks" / "scenarios.yml"
SCHEMA = json.loads((ROOT / "docs" / "drift-report.schema.json").read_text())
SECRET = "cb-S3cret-77"


def _inventory(tmp: Path) -> Path:
    hosts = {
        "node-a": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                   "fixture_secret": SECRET, "fixture_reload": True},
        "node-gone": {"ansible_connection": "ssh", "ansible_host": "127.0.0.1", "ansible_port": 1},
    }
    inv = tmp / "hosts.json"
    inv.write_text(json.dumps({"all": {"hosts": hosts, "vars": {"edgeops_fixture_dir": str(tmp / "files")}}}))
    (tmp / "files").mkdir()
    return inv


def _without_times(report: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in report.items() if k not in ("started_at", "finished_at")}


@pytest.mark.cli
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
        ["ansible-playbook", "-i", str(inv), str(PLAYBOOK), "--check", "--diff"],
        env=env, capture_output=True, text=True, check=False, cwd=PLAYBOOK.parent,
    )
    assert proc.returncode != 0  # node-gone is unreachable
    assert "DRIFT SUMMARY: ERROR (exit 1)" in proc.stdout
    line = r"node-a +Fixture run +drifted +net.core.somaxconn +absent → 4096 +\(file\)"
    assert re.search(line, proc.stdout)
    assert SECRET not in proc.stdout
    cb_text = (tmp_path / "cb.json").read_text()
    cb = json.loads(cb_text)
    jsonschema.validate(cb, SCHEMA)
    assert cb["run"]["check"] is True and cb["run"]["inventory"] == str(inv)
    (concern,) = [c for h in cb["hosts"] if h["name"] == "node-a" for c in h["concerns"]]
    assert concern["name"] == "Fixture run" and concern["status"] == "drifted"
    tasks = {t["name"]: t for t in concern["tasks"]}
    # no_log: still reported, the task is the item, nothing of its value
    assert tasks["Database password file"]["status"] == "drifted"
    assert tasks["Database password file"]["items"] == ["Database password file"]
    # a command skipped by check mode is unchecked, with the reason; skipped by its condition is not listed
    assert tasks["Reload the profile"]["status"] == "unchecked"
    assert "Health probe" not in tasks and concern["task_counts"]["skipped"] >= 1
    keys = {i["key"]: i for i in concern["items"]}
    assert keys["net.core.somaxconn"]["where"] == ["file"]
    assert keys["net.core.somaxconn"]["after"] == "4096"
    (gone,) = [h for h in cb["hosts"] if h["name"] == "node-gone"]
    assert gone["status"] == "unreachable" and gone["concerns"][0]["status"] == "unreachable"
    assert SECRET not in cb_text + (tmp_path / "cb.xml").read_text()

    # the CLI enables the same callback and reads its report: identical but for the two timestamps
    sys.path.insert(0, str(ROOT))
    from edgeops.cli import main

    os.environ["EDGEOPS_AUDIT_LOG"] = str(tmp_path / "audit.jsonl")
    os.environ["EDGEOPS_ARTIFACTS_DIR"] = str(tmp_path / "art")
    try:
        rc = main(["drift", str(PLAYBOOK), "-i", str(inv), "-o", str(tmp_path / "cli.json")])
    finally:
        del os.environ["EDGEOPS_AUDIT_LOG"], os.environ["EDGEOPS_ARTIFACTS_DIR"]
    assert rc == 1
    cli = json.loads((tmp_path / "cli.json").read_text())
    assert json.dumps(_without_times(cb), indent=2) == json.dumps(_without_times(cli), indent=2)


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


def _records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.cli
def test_callback_appends_the_audit_record_and_edgeops_writes_exactly_one(tmp_path: Path) -> None:
    inv = _inventory(tmp_path)
    log = tmp_path / "audit.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEOPS_")}
    env.update({"ANSIBLE_CALLBACKS_ENABLED": "edgeops.gitops.drift", "EDGEOPS_AUDIT_STORE": str(log),
                "EDGEOPS_DRIFT_SUMMARY": "false", "EDGEOPS_ARTIFACTS_DIR": str(tmp_path / "art"),
                "NO_COLOR": "1"})
    cmd = ["ansible-playbook", "-i", str(inv), str(PLAYBOOK), "--check", "--diff", "--limit", "node-a"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False, cwd=PLAYBOOK.parent)
    assert "audit: record 1 appended to" in proc.stdout, proc.stdout + proc.stderr
    (record,) = _records(log)
    assert record["command"] == "drift" and record["run"]["runner"] == "ansible-playbook"
    assert record["hosts"]["node-a"]["drifted"] and record["exit_code"] == 2  # the report's, not ansible's
    assert SECRET not in log.read_text()

    # turned off (what edgeops does for the runs it starts): no record
    off = subprocess.run(cmd, env={**env, "EDGEOPS_DRIFT_AUDIT": "false"}, capture_output=True, text=True,
                         check=False, cwd=PLAYBOOK.parent)
    assert "audit: record" not in off.stdout and len(_records(log)) == 1

    # edgeops with the callback enabled in the environment: still one record for its run
    edgeops = Path(sys.executable).with_name("edgeops")
    cli = subprocess.run([str(edgeops), "drift", str(PLAYBOOK), "-i", str(inv), "-l", "node-a",
                          "--format", "json"], env=env, capture_output=True, text=True, check=False,
                         cwd=PLAYBOOK.parent)
    assert cli.returncode == 2, cli.stderr
    records = _records(log)
    assert [r["run"]["runner"] for r in records] == ["ansible-playbook", "edgeops"]


def test_the_collections_filters_are_loaded_before_workers_fork() -> None:
    """The callback runs in the process every task's worker forks from: once it has started, the
    collection's filter plugins are imported there, so no worker imports them again."""
    code = """
import sys
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
from ansible_collections.edgeops.gitops.plugins.callback import drift
prefix = "ansible_collections.edgeops.gitops.plugins.filter."
before = sorted(m for m in sys.modules if m.startswith(prefix))
drift._preload_filters()
after = sorted(m[len(prefix):] for m in sys.modules if m.startswith(prefix))
print(before, after)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = proc.stdout.strip().split("] [")
    assert before == "["
    shipped = sorted(p.stem for p in (ROOT / "plugins" / "filter").glob("*.py") if not p.stem.startswith("_"))
    assert after.rstrip("]").replace("'", "").split(", ") == shipped
