"""``edgeops --strategy``: the environment that selects Ansible's strategy for a run."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from edgeops import strategy
from edgeops.cli import build_parser
from edgeops.errors import EdgeopsError, UsageError


def test_default_leaves_ansible_cfg_in_charge() -> None:
    assert strategy.strategy_env(None) == {}
    assert build_parser().parse_args(["drift"]).strategy is None


def test_linear() -> None:
    assert strategy.strategy_env("linear") == {"ANSIBLE_STRATEGY": "linear"}


@pytest.mark.skipif(importlib.util.find_spec("ansible_mitogen") is None, reason="mitogen not installed")
def test_mitogen_points_at_the_installed_strategy_plugins() -> None:
    env = strategy.strategy_env("mitogen")
    assert env["ANSIBLE_STRATEGY"] == "mitogen_linear"
    plugins = Path(env["ANSIBLE_STRATEGY_PLUGINS"])
    assert (plugins / "mitogen_linear.py").is_file()
    assert plugins.parts[-3:] == ("ansible_mitogen", "plugins", "strategy")


def test_mitogen_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(EdgeopsError) as err:
        strategy.strategy_env("mitogen")
    assert err.value.message == "the mitogen strategy needs Mitogen, which is not installed"
    assert err.value.hint == "install it with: pip install 'edgeops[mitogen]'"


def test_unknown_strategy_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="invalid choice: 'free'"):
        build_parser().parse_args(["--strategy", "free", "drift"])
    with pytest.raises(EdgeopsError, match="unknown strategy 'free': accepted values are linear, mitogen"):
        strategy.strategy_env("free")


def test_strategy_reaches_the_run(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The runner adapter passes the strategy's environment to ansible-runner."""
    from edgeops import runner
    from edgeops.config import RunConfig

    seen: dict[str, object] = {}

    class _Result:
        rc, status = 0, "successful"

    def fake_run(**kw: object) -> _Result:
        seen.update(kw)
        return _Result()

    monkeypatch.setattr(runner.ansible_runner, "run", fake_run)
    config = RunConfig(inventory=(tmp_path,), artifacts_dir=tmp_path / "a", strategy="linear")
    runner.run_playbook(config, lambda e: None)
    envvars = seen["envvars"]
    assert isinstance(envvars, dict) and envvars["ANSIBLE_STRATEGY"] == "linear"
