"""The report builder: host x concern, items, statuses — from real result shapes, no timings."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ansible_collections.edgeops.gitops.plugins.plugin_utils import _drift_report as dr

SYSCTL = "edgeops.gitops.sysctl_profile"
COMMAND = "ansible.builtin.command"
# What Ansible's command module returns when check mode stops it, and what a false `when:` gives.
CHECK_MODE_SKIP = {"changed": False, "skipped": True, "msg": "Command would have run if not in check mode"}
WHEN_SKIP = {"changed": False, "skipped": True, "skip_reason": "Conditional result was False",
             "false_condition": "reload | bool"}


def one(results: list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any]]], mode: str = "check"
        ) -> dict[str, Any]:
    """Build a report from (kind, task, action, result, extra kwargs) on host h1."""
    b = dr.ReportBuilder(mode=mode, meta={"playbook": "site.yml"})
    for kind, task, action, result, kw in results:
        b.task_result("h1", kind, task, action, result, **kw)
    return b.build()


def concern(report: dict[str, Any], name: str) -> dict[str, Any]:
    (c,) = [c for h in report["hosts"] for c in h["concerns"] if c["name"] == name]
    return c


ROLE = {"role": "edgeops.gitops.sysctl_tuning", "play": "Kernel"}

# (case, results, expected concern status, expected task statuses)
SKIP_CASES = [
    # Today's CLI heuristic decided these from durations; the builder reads the result.
    ("delegated task skipped by its condition (slow: a round trip)",
     [("skipped", "Reload", COMMAND, WHEN_SKIP, ROLE)], "in_sync", []),
    ("slow when: condition on the controller",
     [("skipped", "Reload", COMMAND, {**WHEN_SKIP, "false_condition": "lookup('pipe', 'sleep 2')"}, ROLE)],
     "in_sync", []),
    ("check-mode skip on a fast connection (no measurable round trip)",
     [("skipped", "Reload", COMMAND, CHECK_MODE_SKIP, ROLE)], "unchecked", ["unchecked"]),
    ("module without check mode support",
     [("skipped", "Probe", "community.general.foo",
       {"changed": False, "skipped": True, "msg": "This module does not support check mode"}, ROLE)],
     "unchecked", ["unchecked"]),
    ("a drift is worse than an unchecked task",
     [("skipped", "Reload", COMMAND, CHECK_MODE_SKIP, ROLE),
      ("ok", "Profile", SYSCTL, {"changed": True, "changes": [
          {"key": "net.core.somaxconn", "before": "1024", "after": "4096", "where": ["file", "runtime"]}]},
       ROLE)],
     "drifted", ["unchecked", "drifted"]),
]


@pytest.mark.parametrize(("case", "results", "status", "tasks"), SKIP_CASES, ids=[c[0] for c in SKIP_CASES])
def test_statuses_come_from_results_not_timings(
    case: str, results: list[Any], status: str, tasks: list[str]
) -> None:
    c = concern(one(results), "sysctl_tuning")
    assert c["status"] == status, case
    assert [t["status"] for t in c["tasks"]] == tasks
    if status == "unchecked":
        assert c["reason"] and "check mode" in c["reason"]


def test_no_timing_input_exists() -> None:
    with pytest.raises(TypeError):
        dr.ReportBuilder().task_result("h1", "skipped", "t", COMMAND, CHECK_MODE_SKIP,  # type: ignore[call-arg]
                                       duration=0.01)


@pytest.mark.parametrize(("role", "play", "name"), [
    ("edgeops.gitops.sysctl_tuning", "p", "sysctl_tuning"),
    ("sysctl_tuning", "p", "sysctl_tuning"),
    ("geerlingguy.mysql", "p", "geerlingguy.mysql"),
    (None, "Fixture run", "Fixture run"),
])
def test_concern_is_the_role_or_the_play(role: str | None, play: str, name: str) -> None:
    assert dr.concern_name(role, play) == name


def test_module_changes_become_items_and_merge_per_key() -> None:
    report = one([
        ("ok", "Profile", SYSCTL, {"changed": True, "changes": [
            {"key": "net.core.somaxconn", "before": "1024", "after": "4096", "where": ["runtime"]}]}, ROLE),
        ("ok", "File", "ansible.builtin.copy", {"changed": True, "diff": {
            "before": "net.core.somaxconn = 1024\n", "after": "net.core.somaxconn = 4096\n",
            "before_header": "/etc/sysctl.d/99.conf", "after_header": "/etc/sysctl.d/99.conf"}}, ROLE),
    ])
    c = concern(report, "sysctl_tuning")
    keys = [(i["key"], i.get("path"), i["where"]) for i in c["items"]]
    assert keys == [("net.core.somaxconn", None, ["runtime"]),
                    ("net.core.somaxconn", "/etc/sysctl.d/99.conf", ["file"])]
    assert report["outcome"] == "drift" and report["exit_code"] == 2
    assert report["summary"]["items"] == 2


def test_same_key_and_path_from_two_tasks_is_one_item() -> None:
    change = {"key": "innodb_io_capacity", "before": "500", "after": "2000"}
    c = concern(one([
        ("ok", "a", "m", {"changed": True, "changes": [{**change, "where": ["file"]}]}, ROLE),
        ("ok", "b", "m", {"changed": True, "changes": [{**change, "where": ["runtime"]}]}, ROLE),
    ]), "sysctl_tuning")
    assert c["items"] == [{"key": "innodb_io_capacity", "before": "500", "after": "2000",
                           "where": ["file", "runtime"]}]


def test_mapping_diff_gives_one_item_per_differing_key() -> None:
    c = concern(one([("ok", "Data dir", "ansible.builtin.file", {"changed": True, "diff": {
        "before": {"path": "/var/lib/etcd/data", "mode": "0755", "state": "directory"},
        "after": {"path": "/var/lib/etcd/data", "mode": "0700", "state": "directory"},
        "before_header": "/var/lib/etcd/data"}}, ROLE)]), "sysctl_tuning")
    assert c["items"] == [{"key": "mode", "before": "0755", "after": "0700", "where": ["file"],
                           "path": "/var/lib/etcd/data"}]


def test_config_file_diff_gives_keys_and_never_raw_lines() -> None:
    before = "[mysqld]\ninnodb_io_capacity = 500\ndb_password = hunter2\n-----BEGIN KEY-----\nAAAA\n"
    after = "[mysqld]\ninnodb_io_capacity = 2000\ndb_password = s3cret-new\n-----BEGIN KEY-----\nBBBB\n"
    report = one([("ok", "Drop-in", "ansible.builtin.copy", {"changed": True, "diff": {
        "before": before, "after": after, "after_header": "/etc/mysql/conf.d/90.cnf"}}, ROLE)])
    text = json.dumps(report)
    for secret in ("hunter2", "s3cret-new", "AAAA", "BBBB"):
        assert secret not in text
    items = {i["key"]: i for i in concern(report, "sysctl_tuning")["items"]}
    assert items["innodb_io_capacity"]["before"] == "500" and items["innodb_io_capacity"]["after"] == "2000"
    assert items["db_password"] == {"key": "db_password", "before": "(censored)", "after": "(censored)",
                                    "where": ["file"], "path": "/etc/mysql/conf.d/90.cnf", "censored": True}
    assert items["content"]["before"] == "1 line(s) not in Git"


def test_no_log_result_is_censored_and_still_drift() -> None:
    report = one([("ok", "Token file", "ansible.builtin.copy",
                   {"censored": "the output has been hidden", "changed": True}, ROLE)])
    (item,) = concern(report, "sysctl_tuning")["items"]
    assert item["key"] == "Token file" and item["censored"] is True
    assert report["outcome"] == "drift"


def test_changed_without_detail_names_the_task() -> None:
    (item,) = concern(one([("ok", "Start the service", "ansible.builtin.systemd_service",
                           {"changed": True}, ROLE)]), "sysctl_tuning")["items"]
    assert item == {"key": "Start the service", "before": None, "after": None, "where": ["state"]}


def test_ignored_failure_does_not_fail_the_concern() -> None:
    report = one([("failed", "Optional", COMMAND, {"msg": "nope", "rc": 1}, {**ROLE, "ignore_errors": True})])
    c = concern(report, "sysctl_tuning")
    assert c["status"] == "in_sync" and c["tasks"][0]["ignored"] is True


def test_failed_probe_fails_the_concern_with_its_message() -> None:
    report = one([("failed", "Preflight", "ansible.builtin.assert", {"msg": "etcd disk too small"}, ROLE)])
    c = concern(report, "sysctl_tuning")
    assert (c["status"], c["reason"]) == ("failed", "etcd disk too small")
    assert report["exit_code"] == 1


def test_probes_that_succeed_are_no_concern() -> None:
    """Facts gathered by a play (outside any role) do not make the play a concern."""
    report = one([("ok", "Gathering Facts", "ansible.builtin.gather_facts", {"changed": False},
                   {"play": "Kernel"}),
                  ("ok", "Profile", SYSCTL, {"changed": False}, ROLE),
                  ("ok", "Look", "ansible.builtin.stat", {"changed": False}, ROLE)])
    assert [c["name"] for c in report["hosts"][0]["concerns"]] == ["sysctl_tuning"]
    c = concern(report, "sysctl_tuning")
    assert c["status"] == "in_sync" and c["tasks"] == [] and c["task_counts"]["in_sync"] == 2


def test_apply_mode_says_changed_and_exits_zero() -> None:
    report = one([("ok", "Profile", SYSCTL, {"changed": True}, ROLE)], mode="apply")
    assert concern(report, "sysctl_tuning")["status"] == "changed"
    assert (report["outcome"], report["exit_code"]) == ("changed", 0)


def test_unchecked_only_is_not_drift() -> None:
    report = one([("skipped", "Reload", COMMAND, CHECK_MODE_SKIP, ROLE)])
    assert report["hosts"][0]["status"] == "unchecked"
    assert (report["outcome"], report["exit_code"]) == ("in_sync", 0)


def test_no_host_is_an_error_and_interrupted_is_said() -> None:
    assert dr.ReportBuilder().build()["outcome"] == "error"
    b = dr.ReportBuilder()
    b.task_result("h1", "ok", "t", "m", {"changed": False}, role="r")
    assert b.build(interrupted=True)["outcome"] == "interrupted"


def test_lines_name_host_concern_item_change_where() -> None:
    change = {"key": "net.core.somaxconn", "before": "1024", "after": "4096", "where": ["file", "runtime"]}
    report = one([("ok", "Profile", SYSCTL, {"changed": True, "changes": [change]}, ROLE)])
    assert dr.report_lines(report) == [
        ["h1", "sysctl_tuning", "drifted", "net.core.somaxconn", "1024 → 4096", "(file, runtime)"]]
    assert all(len(line) <= 100 for line in dr.summary_lines(report))
    assert "net.core.somaxconn: 1024 → 4096 (file, runtime)" in dr.to_junit(report)
    assert "| h1 | sysctl_tuning | drifted | net.core.somaxconn | 1024 → 4096 | (file, runtime) |" in (
        dr.to_markdown(report))
