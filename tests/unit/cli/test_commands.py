"""``edgeops apply`` / ``drift`` end to end on local hosts (real ansible-runner runs).

Each run takes a few seconds: playbooks/scenarios.yml against two
``ansible_connection: local`` hosts working on files in a temp directory.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from edgeops.audit import AuditLog, verify
from edgeops.cli import main
from tests.unit.cli.conftest import PLAYBOOKS, ROOT

SECRET = "Tok3n-never-on-disk-5e1"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    work = tmp_path / "files"
    work.mkdir()
    inv = tmp_path / "hosts.yml"
    hosts = {
        h: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
            "fixture_secret": SECRET, "fixture_config_secret": SECRET}
        for h in ("node-a", "node-b")
    }
    inv.write_text(json.dumps({"all": {"hosts": hosts, "vars": {"edgeops_fixture_dir": str(work)}}}))
    paths = {"inv": inv, "work": work, "audit": tmp_path / "audit.jsonl", "art": tmp_path / "artifacts",
             "tmp": tmp_path}
    monkeypatch.setenv("EDGEOPS_AUDIT_LOG", str(paths["audit"]))
    monkeypatch.setenv("EDGEOPS_ARTIFACTS_DIR", str(paths["art"]))
    monkeypatch.setenv("EDGEOPS_DB_PASSWORD", SECRET)  # a credential in the environment
    monkeypatch.setenv("NO_COLOR", "1")
    return paths


def run(env: dict[str, Path], command: str, *extra: str) -> int:
    return main([command, str(PLAYBOOKS / "scenarios.yml"), "-i", str(env["inv"]), *extra])


def test_apply_then_drift_then_hand_fix(env: dict[str, Path], capsys: pytest.CaptureFixture[str],
                                        report_schema: dict[str, Any]) -> None:
    assert run(env, "apply", "--format", "json") == 0
    applied = json.loads(capsys.readouterr().out)
    assert applied["outcome"] == "changed"
    assert run(env, "drift", "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "in_sync"

    conf = env["work"] / "node-b-sysctl.conf"
    conf.write_text(conf.read_text().replace("4096", "128", 1))
    before = {p.name: p.read_bytes() for p in env["work"].iterdir()}
    out = env["tmp"] / "drift.json"
    assert run(env, "drift", "-o", str(out)) == 2
    # check mode changed nothing
    assert {p.name: p.read_bytes() for p in env["work"].iterdir()} == before
    report = json.loads(out.read_text())
    jsonschema.validate(report, report_schema)
    assert {h["name"]: h["status"] for h in report["hosts"]} == {"node-a": "in_sync", "node-b": "drifted"}
    (concern,) = [c for h in report["hosts"] if h["name"] == "node-b" for c in h["concerns"]]
    assert concern["name"] == "Fixture run"  # tasks outside roles: the play is the concern
    assert concern["items"] == [{"key": "net.core.somaxconn", "before": "128", "after": "4096",
                                 "where": ["file"], "path": str(conf)}]

    junit = env["tmp"] / "drift.xml"
    assert run(env, "drift", "--limit", "node-b", "-o", str(junit)) == 2
    assert ET.parse(junit).getroot().get("failures") == "1"

    assert run(env, "apply", "--format", "markdown") == 0
    assert run(env, "drift", "--format", "json") == 0

    recs = list(AuditLog(env["audit"]).records())
    assert [(r["command"], r["outcome"], r["exit_code"]) for r in recs] == [
        ("apply", "changed", 0), ("drift", "in_sync", 0), ("drift", "drift", 2), ("drift", "drift", 2),
        ("apply", "changed", 0), ("drift", "in_sync", 0),
    ]
    # the audit keeps concerns and item names, never values
    assert recs[2]["hosts"]["node-b"]["drifted"] == {"Fixture run": ["net.core.somaxconn"]}
    assert "128" not in json.dumps(recs[2]["hosts"])
    assert recs[3]["run"]["limit"] == "node-b"
    assert recs[0]["actor"]["user"] and recs[0]["config_repo"]["commit"] is None  # tmp: not a repo
    assert verify(AuditLog(env["audit"])).ok


def test_no_secret_anywhere(env: dict[str, Path], capfd: pytest.CaptureFixture[str]) -> None:
    """Neither a no_log result nor a secret inside the file diff of a task without no_log
    reaches the console, a report, the audit log or the runner artifacts."""
    assert run(env, "apply", "-o", str(env["tmp"] / "a.json")) == 0
    (env["work"] / "node-a-secret").write_text("changed by hand\n")
    app = env["work"] / "node-a-app.conf"
    app.write_text(app.read_text().replace(SECRET, "edited-by-hand"))
    assert run(env, "drift", "-o", str(env["tmp"] / "d.json")) == 2
    drift = json.loads((env["tmp"] / "d.json").read_text())
    items = {i["key"]: i for h in drift["hosts"] for c in h["concerns"] for i in c["items"]}
    assert items["db_password"]["censored"] and items["db_password"]["after"] == "(censored)"
    assert items["Database password file"]["censored"]  # no_log: the task is the item
    assert run(env, "drift", "--format", "table") == 2
    console = capfd.readouterr()
    assert SECRET not in console.out + console.err
    hits = [
        p for p in env["tmp"].rglob("*")
        if p.is_file() and p.parent != env["work"] and p != env["inv"] and SECRET.encode() in p.read_bytes()
    ]
    assert hits == []
    # the run directories exist and were rotated, not left as raw runner output
    runs = sorted(env["art"].iterdir())
    assert runs and all((r / "status").exists() for r in runs)
    assert not any((r / name).exists() for r in runs for name in ("job_events", "stdout", "stderr"))


def test_keep_artifacts_keeps_the_output(env: dict[str, Path]) -> None:
    assert run(env, "drift", "--keep-artifacts", "--format", "json") == 2
    (one,) = env["art"].iterdir()
    assert "TASK [Kernel profile file]" in (one / "stdout").read_text()


def test_usage_errors(env: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./inventory here
    assert main(["drift"]) == 64
    assert "pass -i INVENTORY" in capsys.readouterr().err
    assert main(["drift", "-i", str(env["inv"]), "missing.yml"]) == 64
    assert main(["drift", "-i", str(env["inv"]), "--format", "yaml"]) == 64
    assert not env["audit"].exists()  # nothing ran, nothing recorded


def test_broken_inventory_is_an_error(env: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    """Named, with its cause, in one line before anything runs (issue 16 item 9)."""
    bad = env["tmp"] / "bad.yml"
    bad.write_text("all: [unclosed\n")
    assert main(["drift", str(PLAYBOOKS / "scenarios.yml"), "-i", str(bad), "--format", "json"]) == 1
    out = capsys.readouterr()
    assert out.out == ""
    (line,) = [x for x in out.err.splitlines() if x.startswith("Error:")]
    assert line.startswith(f"Error: inventory {bad}: auto plugin: YAML parsing failed")
    assert not env["audit"].exists()  # nothing ran, nothing recorded


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_run_leaves_a_record(env: dict[str, Path], sig: int) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgeops", "apply", str(PLAYBOOKS / "slow.yml"), "-i", str(env["inv"]),
         "--format", "json"],
        cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    lock = AuditLog(env["audit"]).lock_path
    deadline = time.monotonic() + 60
    while not (env["art"].exists() and any(env["art"].iterdir())) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # ansible-playbook is running the sleep
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    (rec,) = AuditLog(env["audit"]).records()
    assert rec["outcome"] == "interrupted"
    assert rec["signal"] == signal.Signals(sig).name
    assert json.loads(out)["outcome"] == "interrupted"
    assert lock.exists() and verify(AuditLog(env["audit"])).ok
    # ansible-playbook and its workers are gone too
    time.sleep(1)
    left = subprocess.run(["pgrep", "-f", str(env["inv"])], capture_output=True, text=True,
                          check=False).stdout.split()
    assert left == []
