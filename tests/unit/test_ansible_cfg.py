"""The checkout's ansible.cfg: host keys checked, SSH settings that matter for speed on."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "ansible.cfg", encoding="utf-8")
    return cfg


def test_host_keys_are_checked() -> None:
    # `host_key_checking = false` makes Ansible pass -o StrictHostKeyChecking=no before the
    # inventory's ssh_common_args, and ssh keeps the first value it gets: the lab's pinned
    # known_hosts would be ignored (seen: a swapped host key was accepted). Mitogen would add
    # UserKnownHostsFile=/dev/null as well.
    value = _cfg().get("defaults", "host_key_checking", fallback="true")
    assert value.strip().lower() in ("true", "yes", "1")


def test_ssh_multiplexing_and_pipelining() -> None:
    cfg = _cfg()
    assert cfg.getboolean("connection", "pipelining")
    args = shlex.split(cfg.get("ssh_connection", "ssh_args"))
    assert "ControlMaster=auto" in args and "ControlPersist=60s" in args
    # The control path comes from control_path/control_path_dir, whose directory Ansible creates;
    # a ControlPath in ssh_args would point at a directory nobody creates.
    assert not any(a.startswith("ControlPath") for a in args)
    assert cfg.get("ssh_connection", "control_path") == "%(directory)s/%%C"
