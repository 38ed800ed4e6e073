"""Verify (testinfra): the kernel and the file hold the profile after the scenario.

Reads everything with two commands (each testinfra command is an Ansible round trip).
"""

from __future__ import annotations

import pytest

PROFILE = "/etc/sysctl.d/99-k8s-network.conf"
PROBE = "/etc/sysctl.d/98-edgeops-readonly-probe.conf"
KEYS = (
    "fs.file-max",
    "net.core.somaxconn",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_max_syn_backlog",
)


@pytest.fixture(scope="module")
def state(host):
    """Runtime values (whitespace normalised), the file's lines and its metadata."""
    # constants only: no arguments, so testinfra does no %-formatting or quoting
    command = (
        "for k in " + " ".join(KEYS) + "; do printf '%s=' $k; sysctl -n $k | tr '\\t' ' '; done; "
        "echo '--'; stat -c '%a %U' " + PROFILE + "; "
        "test -e " + PROBE + " && echo probe-present || echo probe-absent; "
        "echo '--'; cat " + PROFILE
    )
    out = host.check_output(command)
    runtime_text, meta, content = out.split("--\n", 2)
    runtime = dict(line.split("=", 1) for line in runtime_text.splitlines())
    values = {}
    for line in content.splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip()
    return {"runtime": runtime, "meta": meta.split(), "content": content, "file": values}


def test_file_is_owned_and_complete(state):
    assert state["meta"][:2] == ["644", "root"]
    assert state["content"].startswith("# Managed by Ansible (edgeops.gitops.sysctl_profile)")
    assert sorted(state["file"]) == sorted(KEYS)


def test_runtime_network_values(state):
    runtime = state["runtime"]
    assert runtime["net.ipv4.ip_local_port_range"] == "1024 65000"
    assert runtime["net.core.somaxconn"] == "4096"
    assert runtime["net.ipv4.tcp_max_syn_backlog"] == "4096"
    # the local range overlaps the NodePort range: it is reserved
    assert runtime["net.ipv4.ip_local_reserved_ports"] == "30000-32767"


def test_file_matches_runtime(state):
    for key, value in state["file"].items():
        if key != "fs.file-max":  # global: read-only here, see test_file_max_never_lowered
            assert state["runtime"][key] == value, key


def test_file_max_never_lowered(state):
    """The file holds max(reference, kernel's value); the global itself is not changed."""
    kernel = int(state["runtime"]["fs.file-max"])
    assert int(state["file"]["fs.file-max"]) == max(2097152, kernel)


def test_readonly_probe_removed(state):
    assert state["meta"][2] == "probe-absent"
