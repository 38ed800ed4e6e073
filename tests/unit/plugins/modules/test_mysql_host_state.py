"""Tests for the edgeops.gitops.mysql_host_state module: the plan from fake files and commands.

The real server (MariaDB in a systemd container) is covered by the mysql_host molecule
scenario, whose check-mode runs (before converge, clean, drift) go through this module.
"""

from __future__ import annotations

import json

import pytest
from ansible_collections.edgeops.gitops.plugins.modules import mysql_host_state

DROPIN = "/etc/mysql/mariadb.conf.d/90-edgeops.cnf"
WANT = "# managed\n[mysqld]\nbind_address = 10.0.0.5\ninnodb_io_capacity = 2000\n"


def systemctl(states):
    def run(argv):
        if argv[0] == "dpkg-query":
            return 0, "".join(f"{p} ii \n" for p in argv[4:]), ""
        verb, unit = argv[1], argv[2]
        return 0, states.get((verb, unit), "enabled" if verb == "is-enabled" else "active") + "\n", ""

    return run


def test_enabled_or_active_socket_units_are_drift():
    run = systemctl(
        {
            ("is-enabled", "mariadb.socket"): "enabled",
            ("is-active", "mariadb.socket"): "inactive",
            ("is-enabled", "mariadb-extra.socket"): "disabled",
            ("is-active", "mariadb-extra.socket"): "inactive",
        }
    )
    assert mysql_host_state.socket_items(["mariadb.socket", "mariadb-extra.socket"], run) == [
        {
            "key": "socket mariadb.socket",
            "before": "enabled, inactive",
            "after": "disabled, inactive",
            "where": ["state"],
        }
    ]


@pytest.fixture
def host(monkeypatch):
    state = {
        "file": WANT,
        "states": {("is-enabled", "mariadb.socket"): "disabled", ("is-active", "mariadb.socket"): "inactive"},
        "runtime": ([], []),
    }
    monkeypatch.setattr(mysql_host_state, "read_file", lambda path: state["file"])
    monkeypatch.setattr(mysql_host_state, "runtime_items", lambda settings, socket: state["runtime"])
    monkeypatch.setattr(
        mysql_host_state.AnsibleModule,
        "run_command",
        lambda self, argv, **kw: systemctl(state["states"])(argv),
    )
    return state


def call(capsys, module_args, check_mode=True):
    args = {
        "packages": ["mariadb-server"],
        "config_path": DROPIN,
        "config_content": WANT,
        "service": "mariadb",
        "socket_units": ["mariadb.socket"],
        "settings": {"innodb_io_capacity": 2000},
        "_ansible_check_mode": check_mode,
        "_ansible_diff": True,
    }
    module_args(args)
    with pytest.raises(SystemExit):
        mysql_host_state.main()
    return json.loads(capsys.readouterr().out)


def test_in_sync_host_has_an_empty_plan(host, capsys, module_args):
    out = call(capsys, module_args)
    assert (out["plan"], out["changed"], out["running"]) == ([], False, True)


def test_hand_edit_of_the_dropin_is_one_file_item_per_key(host, capsys, module_args):
    host["file"] = WANT.replace("innodb_io_capacity = 2000", "innodb_io_capacity = 500")
    host["runtime"] = (
        [{"key": "max_connections", "before": "100", "after": "151", "where": ["runtime"]}],
        [],
    )
    out = call(capsys, module_args)
    assert out["changes"] == [
        {"key": "innodb_io_capacity", "before": "500", "after": "2000", "where": ["file"], "path": DROPIN},
        {"key": "max_connections", "before": "100", "after": "151", "where": ["runtime"]},
    ]
    assert out["changed"] is True


def test_a_stopped_server_is_drift_and_its_runtime_is_not_read(host, capsys, module_args):
    host["states"][("is-active", "mariadb")] = "inactive"
    host["runtime"] = None  # reading it would fail the test
    out = call(capsys, module_args, check_mode=False)
    assert out["plan"] == ["service mariadb"] and out["running"] is False
    assert out["changed"] is False  # a normal run changes nothing itself
