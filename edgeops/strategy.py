"""Ansible strategies ``edgeops --strategy`` can select, as environment for one run.

``linear`` is Ansible's own.  ``mitogen`` is Mitogen for Ansible (the optional
extra ``edgeops[mitogen]``): its ``mitogen_linear`` strategy runs the same
plays with one persistent Python interpreter per host, reached over the
host's own connection (``ssh`` becomes ``mitogen_ssh``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from edgeops.errors import EdgeopsError

STRATEGIES: tuple[str, ...] = ("linear", "mitogen")


def mitogen_strategy_dir() -> Path:
    """``ansible_mitogen/plugins/strategy`` of the installed Mitogen, or an error saying how to install it."""
    spec = importlib.util.find_spec("ansible_mitogen")
    if spec is None or not spec.submodule_search_locations:
        raise EdgeopsError("the mitogen strategy needs Mitogen, which is not installed",
                           hint="install it with: pip install 'edgeops[mitogen]'")
    path = Path(next(iter(spec.submodule_search_locations))) / "plugins" / "strategy"
    if not (path / "mitogen_linear.py").is_file():
        raise EdgeopsError(f"Mitogen is installed but has no mitogen_linear strategy in {path}",
                           hint="reinstall it with: pip install --force-reinstall 'edgeops[mitogen]'")
    return path


def strategy_env(strategy: str | None) -> dict[str, str]:
    """Environment that selects ``strategy`` for a run (empty: ansible.cfg decides)."""
    if strategy is None:
        return {}
    if strategy == "linear":
        return {"ANSIBLE_STRATEGY": "linear"}
    if strategy == "mitogen":
        return {"ANSIBLE_STRATEGY": "mitogen_linear", "ANSIBLE_STRATEGY_PLUGINS": str(mitogen_strategy_dir())}
    raise EdgeopsError(f"unknown strategy {strategy!r}: accepted values are {', '.join(STRATEGIES)}")
