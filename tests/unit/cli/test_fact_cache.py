"""The facts cache of ``edgeops drift``/``apply``: a drift check reuses recent facts, apply gathers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edgeops.config import RunConfig
from edgeops.errors import EdgeopsError
from edgeops.runner import fact_cache_env


@pytest.fixture(autouse=True)
def _state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    for name in ("ANSIBLE_CACHE_PLUGIN", "ANSIBLE_GATHERING", "EDGEOPS_FACT_CACHE_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def test_drift_reuses_and_apply_refreshes_the_same_cache(tmp_path: Path) -> None:
    inventory = (tmp_path / "prod",)
    drift = fact_cache_env(RunConfig(inventory=inventory, check=True))
    apply = fact_cache_env(RunConfig(inventory=inventory, check=False))
    assert drift["ANSIBLE_GATHERING"] == "smart"
    assert apply["ANSIBLE_GATHERING"] == "implicit"
    assert drift["ANSIBLE_CACHE_PLUGIN"] == apply["ANSIBLE_CACHE_PLUGIN"] == "ansible.builtin.jsonfile"
    assert drift["ANSIBLE_CACHE_PLUGIN_CONNECTION"] == apply["ANSIBLE_CACHE_PLUGIN_CONNECTION"]
    assert drift["ANSIBLE_CACHE_PLUGIN_TIMEOUT"] == "3600"
    where = Path(drift["ANSIBLE_CACHE_PLUGIN_CONNECTION"])
    assert where.is_dir() and where.is_relative_to(tmp_path / "state" / "edgeops" / "facts")
    assert where.stat().st_mode & 0o077 == 0


def test_each_inventory_has_its_own_cache(tmp_path: Path) -> None:
    one = fact_cache_env(RunConfig(inventory=(tmp_path / "lab",), check=True))
    two = fact_cache_env(RunConfig(inventory=(tmp_path / "prod",), check=True))
    assert one["ANSIBLE_CACHE_PLUGIN_CONNECTION"] != two["ANSIBLE_CACHE_PLUGIN_CONNECTION"]


def test_timeout_zero_turns_it_off_and_a_bad_timeout_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGEOPS_FACT_CACHE_TIMEOUT", "0")
    assert fact_cache_env(RunConfig(inventory=(Path("x"),), check=True)) == {}
    monkeypatch.setenv("EDGEOPS_FACT_CACHE_TIMEOUT", "1h")
    with pytest.raises(EdgeopsError, match="FACT_CACHE_TIMEOUT must be a whole number of seconds, got '1h'"):
        fact_cache_env(RunConfig(inventory=(Path("x"),), check=True))


@pytest.mark.parametrize("name", ["ANSIBLE_CACHE_PLUGIN", "ANSIBLE_GATHERING"])
def test_the_users_own_cache_settings_win(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv(name, "explicit" if name == "ANSIBLE_GATHERING" else "ansible.builtin.memory")
    assert fact_cache_env(RunConfig(inventory=(Path("x"),), check=True)) == {}


def _local(tmp_path: Path, host: str, play_text: str) -> tuple[Path, Path]:
    """An inventory of one local host and a playbook; returns (inventory, playbook)."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(f"all:\n  hosts:\n    {host}:\n      ansible_connection: local\n"
                         f"      ansible_python_interpreter: {sys.executable}\n")
    play = tmp_path / "play.yml"
    play.write_text(play_text)
    return inventory, play


GATHERING = "- hosts: all\n  gather_facts: true\n  gather_subset: ['!all', '!min', network]\n  tasks:\n"


def test_a_drift_run_after_apply_gathers_no_facts(tmp_path: Path) -> None:
    """Real ansible-playbook: a play with ``gather_facts: true`` (as the collection's plays) gathers
    in the apply environment and not in the drift one, and still has the facts."""
    inventory, play = _local(tmp_path, "cached", GATHERING + "    - ansible.builtin.debug:\n"
                             "        msg: \"ADDRESSES={{ ansible_facts.all_ipv4_addresses is defined }}\"\n")

    def run(check: bool) -> str:
        env = {**os.environ, **fact_cache_env(RunConfig(inventory=(inventory,), check=check))}
        env["ANSIBLE_NOCOLOR"] = "1"
        argv = ["ansible-playbook", "-i", str(inventory), str(play)] + (["--check"] if check else [])
        proc = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)
        return proc.stdout

    applied = run(check=False)
    assert "TASK [Gathering Facts]" in applied and "ADDRESSES=True" in applied
    drift = run(check=True)
    assert "TASK [Gathering Facts]" not in drift
    assert "ADDRESSES=True" in drift


def test_through_ansible_runner_drift_reuses_the_facts_apply_gathered(tmp_path: Path) -> None:
    """As ``edgeops`` runs it (ansible-runner, which sets a fact cache of its own per run unless told
    where ours is): apply gathers, the drift check after it does not, and still has the facts."""
    from edgeops.runner import run_playbook

    inventory, play = _local(tmp_path, "cached", GATHERING + "    - ansible.builtin.assert:\n"
                             "        that: ansible_facts.all_ipv4_addresses is defined\n")

    def run(check: bool) -> list[str]:
        tasks: list[str] = []

        def on_event(event: dict) -> None:
            if event.get("event") == "runner_on_ok":
                tasks.append(event["event_data"]["task"])

        config = RunConfig(playbook=str(play), inventory=(inventory,), check=check, project_dir=tmp_path,
                           artifacts_dir=tmp_path / "artifacts")
        result = run_playbook(config, on_event)
        assert result.rc == 0
        return tasks

    assert run(check=False)[0] == "Gathering Facts"
    assert run(check=True) == ["ansible.builtin.assert"]
    env = fact_cache_env(RunConfig(inventory=(inventory,), check=True))
    cache = Path(env["ANSIBLE_CACHE_PLUGIN_CONNECTION"])
    assert [p.name for p in cache.iterdir()] == ["s1_cached"]  # jsonfile's name for host "cached"


@pytest.mark.parametrize(("cfg", "expected"), [
    ("", "True"), ("[defaults]\nhost_key_checking = false\n", "False"),
])
def test_through_ansible_runner_host_keys_are_checked_as_ansible_cfg_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cfg: str, expected: str
) -> None:
    """ansible-runner turns host key checking off unless the environment names it; edgeops runs
    keep what Ansible's configuration says (checked by default)."""
    from edgeops.runner import run_playbook

    for name in ("ANSIBLE_HOST_KEY_CHECKING", "ANSIBLE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    if cfg:
        (tmp_path / "ansible.cfg").write_text(cfg)
    inventory, play = _local(tmp_path, "here", "- hosts: all\n  gather_facts: false\n  tasks:\n"
                             "    - ansible.builtin.debug:\n        msg: \"CHECKING={{ lookup("
                             "'ansible.builtin.config', 'HOST_KEY_CHECKING') }}\"\n")
    seen: list[str] = []

    def on_event(event: dict) -> None:
        if event.get("event") == "runner_on_ok":
            seen.append(str(event["event_data"]["res"].get("msg")))

    config = RunConfig(playbook=str(play), inventory=(inventory,), project_dir=tmp_path,
                       artifacts_dir=tmp_path / "artifacts")
    assert run_playbook(config, on_event).rc == 0
    assert seen == [f"CHECKING={expected}"]
