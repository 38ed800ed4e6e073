"""Tests for plugins/module_utils/_sysctl.py against a /proc/sys stand-in."""

from __future__ import annotations

from pathlib import Path

import pytest
from ansible_collections.edgeops.gitops.plugins.module_utils import _sysctl


@pytest.fixture
def proc(proc_tree):
    """A /proc/sys stand-in (see sysctl_proc_tree.yml and ../conftest.py)."""
    return str(proc_tree)


GOOD = [
    # (settings, canonical values)
    ({"net.core.somaxconn": 4096}, {"net.core.somaxconn": "4096"}),
    ({"net.core.somaxconn": "  4096 "}, {"net.core.somaxconn": "4096"}),
    ({"net.ipv4.ip_local_port_range": "1024   65000"}, {"net.ipv4.ip_local_port_range": "1024 65000"}),
    ({"net.ipv4.ip_local_port_range": [1024, 65000]}, {"net.ipv4.ip_local_port_range": "1024 65000"}),
    # the range may start at ip_unprivileged_port_start itself
    ({"net.ipv4.ip_local_port_range": "1024 1024"}, {"net.ipv4.ip_local_port_range": "1024 1024"}),
    # lowering ip_unprivileged_port_start in the same profile allows a lower range
    (
        {"net.ipv4.ip_unprivileged_port_start": 1000, "net.ipv4.ip_local_port_range": "1000 65000"},
        {"net.ipv4.ip_unprivileged_port_start": "1000", "net.ipv4.ip_local_port_range": "1000 65000"},
    ),
    ({"net.ipv4.tcp_rmem": "4096 87380\t6291456"}, {"net.ipv4.tcp_rmem": "4096 87380 6291456"}),
    # reserved ports: kernel form, sorted and merged
    ({"net.ipv4.ip_local_reserved_ports": "32000-32767,8080,30000-31999"},
     {"net.ipv4.ip_local_reserved_ports": "8080,30000-32767"}),
    ({"net.ipv4.ip_local_reserved_ports": ""}, {"net.ipv4.ip_local_reserved_ports": ""}),
    ({"kernel.core_pattern": "|/usr/lib/systemd/systemd-coredump %P"},
     {"kernel.core_pattern": "|/usr/lib/systemd/systemd-coredump %P"}),
    ({"net/ipv4/conf/eth0.100/rp_filter": True}, {"net/ipv4/conf/eth0.100/rp_filter": "1"}),
    ({"fs.file-max": 9223372036854775807}, {"fs.file-max": "9223372036854775807"}),
]


@pytest.mark.parametrize(("settings", "expected"), GOOD)
def test_validate_accepts_and_canonicalises(proc, settings, expected):
    assert _sysctl.validate(proc, settings) == expected


BAD = [
    # (settings, words the message must contain)
    ({"net.core.somaxconnn": 4096}, ["net.core.somaxconnn", "unknown key", "does not exist"]),
    ({"net.core.somaxconn": "lots"}, ["net.core.somaxconn", "'lots'", "not numeric"]),
    ({"net.core.somaxconn": "4096 4096"}, ["net.core.somaxconn", "takes 1 integer(s), got 2"]),
    ({"net.ipv4.ip_local_port_range": "65000 1024"},
     ["net.ipv4.ip_local_port_range", "'65000 1024'", "inverted"]),
    ({"net.ipv4.ip_local_port_range": "1000 65000"},
     ["net.ipv4.ip_local_port_range", "'1000 65000'",
      "below net.ipv4.ip_unprivileged_port_start = 1024", "EINVAL"]),
    ({"net.ipv4.ip_local_port_range": "1024"}, ["net.ipv4.ip_local_port_range", "takes 2 integer(s), got 1"]),
    ({"net.ipv4.ip_local_port_range": "1024 70000"}, ["net.ipv4.ip_local_port_range", "between 1 and 65535"]),
    ({"net.ipv4.ip_local_reserved_ports": "30000-32767;8080"},
     ["net.ipv4.ip_local_reserved_ports", "'30000-32767;8080'", "is not a port or a port range"]),
    ({"net.ipv4.ip_local_reserved_ports": "32767-30000"}, ["net.ipv4.ip_local_reserved_ports", "inverted"]),
    ({"net.ipv4.ip_local_reserved_ports": "30000-70000"},
     ["net.ipv4.ip_local_reserved_ports", "above 65535"]),
    ({"net.core": 1}, ["net.core", "is a directory, not a key"]),
    ({"net..core.somaxconn": 1}, ["net..core.somaxconn", "malformed key name"]),
    ({"../../etc/passwd": 1}, ["../../etc/passwd", "malformed key name"]),
    ({"net.core.somaxconn": "4096\nfs.file-max = 1"}, ["net.core.somaxconn", "one line"]),
    ({"net.core.somaxconn": ""}, ["net.core.somaxconn", "empty"]),
    ({"net.core.somaxconn": None}, ["net.core.somaxconn", "got NoneType"]),
    ({"net.core.somaxconn": 1.5}, ["net.core.somaxconn", "got float"]),
    ({"fs.file-max": 2**64}, ["fs.file-max", "out of the kernel's integer range"]),
    ({}, ["non-empty dict"]),
]


@pytest.mark.parametrize(("settings", "words"), BAD)
def test_validate_refuses_with_key_value_and_reason(proc, settings, words):
    with pytest.raises(_sysctl.SysctlError) as err:
        _sysctl.validate(proc, settings)
    for word in words:
        assert word in str(err.value)


def test_validate_reports_every_bad_key_at_once(proc):
    with pytest.raises(_sysctl.SysctlError) as err:
        _sysctl.validate(
            proc, {"net.core.nope": 1, "net.core.somaxconn": "x", "net.ipv4.tcp_max_syn_backlog": 4096}
        )
    message = str(err.value)
    assert "net.core.nope" in message and "net.core.somaxconn" in message
    assert "net.ipv4.tcp_max_syn_backlog" not in message


def test_read_runtime_normalises_tabs(proc):
    assert _sysctl.read_runtime(proc, "net.ipv4.ip_local_port_range") == "32768 60999"
    assert _sysctl.read_runtime(proc, "net.ipv4.nope") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {}),
        ("# c\n; c\n\nnet.core.somaxconn=4096\n", {"net.core.somaxconn": "4096"}),
        ("net.ipv4.ip_local_port_range = 1024\t 65000\n", {"net.ipv4.ip_local_port_range": "1024 65000"}),
        ("-net.core.somaxconn = 1\nnet.core.somaxconn = 2\n", {"net.core.somaxconn": "2"}),
        ("garbage line\n", {}),
    ],
)
def test_parse(text, expected):
    assert _sysctl.parse(text) == expected


def test_render_orders_dependencies_first_and_round_trips():
    values = {
        "net.ipv4.ip_local_port_range": "1000 65000",
        "net.core.somaxconn": "4096",
        "net.ipv4.ip_unprivileged_port_start": "1000",
    }
    text = _sysctl.render(values)
    assert text.startswith(_sysctl.HEADER)
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body == [
        "net.ipv4.ip_unprivileged_port_start = 1000",
        "net.core.somaxconn = 4096",
        "net.ipv4.ip_local_port_range = 1000 65000",
    ]
    assert _sysctl.parse(text) == values


@pytest.mark.parametrize(
    ("desired", "runtime", "effective", "kept"),
    [
        ({"fs.file-max": "2097152"}, {"fs.file-max": "9223372036854775807"},
         {"fs.file-max": "9223372036854775807"}, {"fs.file-max": "2097152"}),
        ({"fs.file-max": "2097152"}, {"fs.file-max": "1048576"}, {"fs.file-max": "2097152"}, {}),
        ({"fs.file-max": "2097152"}, {"fs.file-max": "2097152"}, {"fs.file-max": "2097152"}, {}),
        ({"fs.file-max": "2097152"}, {"fs.file-max": None}, {"fs.file-max": "2097152"}, {}),
        ({"net.core.somaxconn": "4096"}, {"net.core.somaxconn": "8192"}, {"net.core.somaxconn": "4096"}, {}),
    ],
)
def test_keep_higher(desired, runtime, effective, kept):
    assert _sysctl.keep_higher(desired, runtime, ["fs.file-max", "fs.nr_open"]) == (effective, kept)


def test_keep_higher_needs_single_integer_keys():
    with pytest.raises(_sysctl.SysctlError, match=r"net\.ipv4\.ip_local_port_range"):
        _sysctl.keep_higher({"net.ipv4.ip_local_port_range": "1024 65000"},
                            {"net.ipv4.ip_local_port_range": "32768 60999"}, ["net.ipv4.ip_local_port_range"])


def _by_key(report):
    return {entry["key"]: entry for entry in report}


def test_plan_statuses():
    desired = {"a.x": "1", "b.x": "1 2", "c.x": "3", "d.x": "4", "e.x": "8080,30000-32767"}
    file_before = {"a.x": "1", "b.x": "1 2", "c.x": "9", "gone.x": "7", "e.x": "8080,30000-32767"}
    runtime = {"a.x": "1", "b.x": "1 2", "c.x": "3", "d.x": "5", "gone.x": "7", "e.x": "8080,30000-32767"}
    report = _by_key(_sysctl.plan(desired, file_before, runtime, True, {"d.x": False}))
    assert {key: entry["status"] for key, entry in report.items()} == {
        "a.x": "in_sync", "b.x": "in_sync", "c.x": "changed", "d.x": "not_applied_read_only",
        "e.x": "in_sync", "gone.x": "removed",
    }
    assert report["c.x"]["file_before"] == "9" and not report["c.x"]["apply"]
    assert not report["d.x"]["apply"]
    assert report["gone.x"]["value"] is None


def test_plan_without_apply_looks_at_the_file_only():
    report = _sysctl.plan({"a.x": "1"}, {"a.x": "1"}, {"a.x": "2"}, False, {})
    assert report[0]["status"] == "in_sync" and not report[0]["apply"]


def test_apply_runtime_writes_reads_back(proc):
    desired = {"net.core.somaxconn": "8192", "net.ipv4.ip_local_port_range": "1024 65000"}
    runtime = {key: _sysctl.read_runtime(proc, key) for key in desired}
    report = _sysctl.plan(desired, {}, runtime, True, {})
    assert _sysctl.apply_runtime(proc, report) == []
    after = _by_key(report)
    assert after["net.core.somaxconn"]["runtime_after"] == "8192"
    assert _sysctl.read_runtime(proc, "net.ipv4.ip_local_port_range") == "1024 65000"


def test_apply_runtime_read_only_key_is_reported_not_faked(proc):
    report = _sysctl.plan({"kernel.ngroups_max": "5"}, {}, {"kernel.ngroups_max": "65536"}, True, {})
    assert _sysctl.apply_runtime(proc, report) == ["kernel.ngroups_max"]
    assert report[0]["status"] == "not_applied_read_only"
    assert report[0]["runtime_after"] == "65536"
    assert not _sysctl.writable(proc, "kernel.ngroups_max")
    assert _sysctl.writable(proc, "net.core.somaxconn")


def test_apply_runtime_verify_failure_rolls_back(proc, tmp_path):
    # a key the kernel "accepts" but reads back differently: a link to /dev/null
    sink = Path(proc) / "zz" / "sink"
    sink.parent.mkdir()
    sink.symlink_to("/dev/null")
    desired = {"net.core.somaxconn": "8192", "zz.sink": "5"}
    runtime = {key: _sysctl.read_runtime(proc, key) for key in desired}
    report = _sysctl.plan(desired, {}, runtime, True, {})
    with pytest.raises(_sysctl.SysctlError, match=r"verify failed for zz\.sink: wrote 5"):
        _sysctl.apply_runtime(proc, report)
    assert _sysctl.read_runtime(proc, "net.core.somaxconn") == "4096"


# (file value, runtime value, expected where, expected before) for a profile value of 4096
CHANGES_CASES = [
    ("4096", "4096", None, None),
    ("1024", "1024", ["file", "runtime"], "1024"),
    ("4096", "1024", ["runtime"], "1024"),
    ("1024", "4096", ["file"], "1024"),
    (None, "4096", ["file"], None),
    ("1024", "2048", ["file", "runtime"], "1024 (file), 2048 (runtime)"),
]


@pytest.mark.parametrize(("in_file", "at_runtime", "where", "before"), CHANGES_CASES)
def test_changes_say_where_the_value_differs(in_file, at_runtime, where, before):
    key = "net.core.somaxconn"
    report = _sysctl.plan({key: "4096"}, {key: in_file} if in_file else {}, {key: at_runtime}, True,
                          {key: True})
    changes = _sysctl.changes(report)
    if where is None:
        assert changes == []
    else:
        assert changes == [{"key": key, "before": before, "after": "4096", "where": where}]


def test_changes_list_a_key_removed_from_the_file():
    report = _sysctl.plan({}, {"net.core.somaxconn": "1024"}, {"net.core.somaxconn": "1024"}, True, {})
    assert _sysctl.changes(report) == [
        {"key": "net.core.somaxconn", "before": "1024", "after": None, "where": ["file"]}]


def test_a_host_without_procfs_is_named_before_any_key(tmp_path):
    with pytest.raises(_sysctl.SysctlError, match=r"/net/core is missing on this host: mount procfs"):
        _sysctl.validate(str(tmp_path / "proc" / "sys"), {"net.core.somaxconn": 4096})


# --- reserve_ports: the NodePort reservation (once Jinja in the role, now the module's rule) ---

NODEPORTS = "30000-32767"


@pytest.mark.parametrize(("port_range", "expected"), [
    ("1024 65000", NODEPORTS),          # overlaps: reserved
    ([1024, 65000], NODEPORTS),         # a list as the role accepts it
    ("32767 60999", NODEPORTS),         # touches the last NodePort
    ("32768 60999", None),              # Linux's default range: no overlap, nothing added
    ("1024 29999", None),
])
def test_reserve_ports_only_when_the_ephemeral_range_overlaps(port_range, expected):
    got = _sysctl.reserve_ports({_sysctl.PORT_RANGE: port_range}, NODEPORTS)
    assert got.get(_sysctl.RESERVED_PORTS) == expected
    assert got[_sysctl.PORT_RANGE] == port_range


def test_reserve_ports_adds_to_what_the_profile_reserves_and_leaves_the_input_alone():
    settings = {_sysctl.PORT_RANGE: "1024 65000", _sysctl.RESERVED_PORTS: "8080"}
    got = _sysctl.reserve_ports(settings, NODEPORTS)
    assert got[_sysctl.RESERVED_PORTS] == "8080,30000-32767"
    assert settings[_sysctl.RESERVED_PORTS] == "8080"


def test_reserve_ports_nothing_without_a_range_or_ports():
    assert _sysctl.reserve_ports({"net.core.somaxconn": 4096}, NODEPORTS) == {"net.core.somaxconn": 4096}
    assert _sysctl.reserve_ports({_sysctl.PORT_RANGE: "1024 65000"}, "") == {_sysctl.PORT_RANGE: "1024 65000"}


def test_reserve_ports_refuses_a_range_that_is_not_one():
    with pytest.raises(_sysctl.SysctlError, match="reserve_ports: '30000' is not a port range"):
        _sysctl.reserve_ports({_sysctl.PORT_RANGE: "1024 65000"}, "30000")
