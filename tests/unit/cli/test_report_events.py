"""Drift reports built from recorded ansible-runner event streams.

The streams are real runs of tests/unit/fixtures/events/playbooks/scenarios.yml
(recorded by tests/unit/fixtures/events/record.py through edgeops.runner).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import jsonschema
import pytest

from edgeops.report.events import EventFolder
from edgeops.report.render import render_text
from tests.unit.cli.conftest import EVENTS, stream

SECRET = "fixture-S3cr3t-9f2c"


def build(name: str, mode: str = "check") -> dict[str, Any]:
    folder = EventFolder(mode, {"playbook": "scenarios.yml", "inventory": "hosts.json", "limit": None})
    for event in stream(name):
        folder(event)
    return folder.build()


def concerns(report: dict[str, Any], host: str) -> dict[str, dict[str, Any]]:
    (h,) = [h for h in report["hosts"] if h["name"] == host]
    return {c["name"]: c for c in h["concerns"]}


# (stream, outcome, exit code, {host: status})
CASES = [
    ("in_sync", "in_sync", 0, {"node-a": "in_sync", "node-b": "in_sync"}),
    ("drift", "drift", 2, {"node-a": "drifted", "node-b": "in_sync"}),
    ("failed", "error", 1, {"node-a": "failed", "node-b": "in_sync"}),
    ("unreachable", "error", 1, {"node-a": "in_sync", "node-gone": "unreachable"}),
    ("no_log", "drift", 2, {"node-a": "drifted"}),
    ("check_skip", "in_sync", 0, {"node-a": "in_sync"}),
]


@pytest.mark.parametrize(("name", "outcome", "exit_code", "hosts"), CASES, ids=[c[0] for c in CASES])
def test_outcome_and_host_status(name: str, outcome: str, exit_code: int, hosts: dict[str, str],
                                 report_schema: dict[str, Any]) -> None:
    report = build(name)
    assert report["outcome"] == outcome
    assert report["exit_code"] == exit_code
    assert {h["name"]: h["status"] for h in report["hosts"]} == hosts
    jsonschema.validate(report, report_schema)
    # the recap made it in for every host
    assert all(h["stats"] is not None for h in report["hosts"])


def test_in_sync_lists_every_concern_and_no_probe_noise() -> None:
    c = concerns(build("in_sync"), "node-a")
    assert c["Kernel profile file"]["status"] == "in_sync"
    assert c["Runtime values"]["status"] == "in_sync"
    # a read-only probe with check_mode: false is a real answer: in sync
    assert c["Read the current profile"]["status"] == "in_sync"
    # conditional skips are skipped, not "unchecked"
    assert c["Reload the profile"]["status"] == "skipped"
    assert c["Health probe"]["status"] == "skipped"


def test_drift_carries_text_and_per_key_diffs() -> None:
    report = build("drift")
    c = concerns(report, "node-a")
    text = c["Kernel profile file"]
    assert text["status"] == "drifted"
    assert text["module"] == "ansible.builtin.copy"
    (d,) = text["diff"]
    assert "somaxconn = 128" in d["before"] and "somaxconn = 4096" in d["after"]
    keyed = c["Runtime values"]
    (d,) = keyed["diff"]
    # only the key that differs, with before/after
    assert d["keys"] == [{"key": "net.core.somaxconn", "before": "128", "after": "4096"}]
    assert concerns(report, "node-b")["Runtime values"]["status"] == "in_sync"
    assert report["summary"]["concerns"]["drifted"] == 2


def test_failed_task_message_and_error_exit() -> None:
    report = build("failed")
    c = concerns(report, "node-a")["Health probe"]
    assert c["status"] == "failed"
    assert c["message"] == "non-zero return code"
    assert report["summary"]["host_status"]["failed"] == 1


def test_unreachable_host_is_listed_with_cause() -> None:
    report = build("unreachable")
    (c,) = concerns(report, "node-gone").values()
    assert c["status"] == "unreachable"
    assert "Connection refused" in c["message"]
    assert report["hosts"][1]["stats"]["unreachable"] == 1


def test_no_log_result_is_drift_without_any_value() -> None:
    report = build("no_log")
    c = concerns(report, "node-a")["Database password file"]
    assert c["status"] == "drifted"
    assert c["censored"] is True
    assert c["diff"] == []
    for fmt in ("json", "junit", "markdown"):
        assert SECRET not in render_text(report, fmt)
    # and the recorded stream itself never held it (Ansible censored it)
    assert SECRET not in (EVENTS / "no_log.jsonl").read_text()


def test_check_mode_skipped_command_is_unchecked_not_in_sync() -> None:
    report = build("check_skip")
    c = concerns(report, "node-a")["Reload the profile"]
    assert c["status"] == "unchecked"
    assert "check mode" in c["message"]
    assert report["summary"]["concerns"]["unchecked"] == 1
    assert report["exit_code"] == 0  # unknown is not drift; the report says so


def test_apply_mode_changed_is_not_drift() -> None:
    report = build("drift", mode="apply")
    assert report["outcome"] == "changed"
    assert report["exit_code"] == 0


def test_junit_parses_one_case_per_host_and_concern() -> None:
    report = build("drift")
    root = ET.fromstring(render_text(report, "junit"))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    n = sum(len(h["concerns"]) for h in report["hosts"])
    assert len(cases) == n == int(root.get("tests", "0"))
    failures = [c for c in cases if c.find("failure") is not None]
    assert {(c.get("classname"), c.get("name")) for c in failures} == {
        ("node-a", "Kernel profile file"), ("node-a", "Runtime values"),
    }
    assert root.get("failures") == "2"


def test_junit_errors_for_unreachable() -> None:
    root = ET.fromstring(render_text(build("unreachable"), "junit"))
    errors = root.findall("./testsuite/testcase/error")
    assert [e.get("type") for e in errors] == ["unreachable"]


def test_markdown_summarises_and_details() -> None:
    md = render_text(build("drift"), "markdown")
    assert md.startswith("### Drift report: drift")
    assert "| node-a | ⚠️ drifted | Kernel profile file, Runtime values |" in md
    assert "```diff" in md


def test_memory_is_flat_in_events() -> None:
    """Replaying a stream 200 times grows nothing but counters."""
    folder = EventFolder("check", {})
    events = list(stream("drift"))
    for _repeat in range(200):
        for e in events:
            folder(e)
    report = folder.build()
    # same concerns and diffs as a single replay: nothing accumulates per event
    once = build("drift")
    strip = [{**h, "concerns": h["concerns"]} for h in once["hosts"]]
    assert [h["concerns"] for h in report["hosts"]] == [h["concerns"] for h in strip]
    assert json.dumps(report)  # serialisable
