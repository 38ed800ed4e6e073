"""Check every inventory source before a run, and say in one line which one fails and why.

With ansible-core's defaults an inventory source no plugin can parse is a ``[WARNING]`` and an
empty inventory: ``ansible-playbook`` then runs on no hosts and exits 0, and ``edgeops drift``
could only report "0 hosts". This module parses each source the way ``ansible-playbook`` will
(same configuration, same inventory plugins, through Ansible's own ``InventoryManager``), as
strictly as ``[inventory] unparsed_is_failed`` plus ``any_unparsed_is_failed`` would, and turns
the first failure into an :class:`~edgeops.errors.EdgeopsError` naming the source and the cause
the plugin gave (missing state file, corrupt JSON, encrypted state, ...).

Ansible reports plugin failures through its ``display`` object only; they are collected by
standing in for the inventory manager's ``display`` while one source is parsed.  The parse runs
in a child process (``python -m edgeops.inventory_check SOURCE...``): configuring Ansible's
collection loader is once per process and global, and the command line's process must stay as
it was for whatever runs after the check.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from edgeops.errors import EdgeopsError

#: The order in which the plugins' explanations are worth reading: a plugin configuration file
#: is best explained by ``auto`` (which ran the plugin it names); ``ini`` and ``host_list`` try
#: almost anything and their complaints about a YAML or JSON file are noise.
_PLUGIN_RANK = ("auto", "yaml", "toml", "script", "ini", "host_list")
#: Messages that only say a plugin was the wrong one for the file.
_NOT_MINE = ("Plugin configuration YAML file, not YAML inventory",)
_UNPARSED = re.compile(r"^Unable to parse (?P<path>.+) as an inventory source$")

HINT = ("fix or remove the source; plain ansible-playbook fails the same way with "
        "ANSIBLE_INVENTORY_UNPARSED_FAILED=true and ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true")


@dataclass
class _Failure:
    plugin: str
    message: str


@dataclass
class _Recorder:
    """Stands in for ``ansible.inventory.manager.display``: keeps failures, drops the rest."""

    pending: list[_Failure] = field(default_factory=list)
    unparsed: dict[str, list[_Failure]] = field(default_factory=dict)

    def error_as_warning(self, msg: str, exception: BaseException, **_: Any) -> None:
        plugin = re.search(r"with '([^']+)' plugin", str(msg))
        self.pending.append(_Failure(plugin.group(1) if plugin else "?", _message(exception)))

    def warning(self, msg: str, *_: Any, **__: Any) -> None:
        match = _UNPARSED.match(str(msg))
        if match:
            self.unparsed[match.group("path")] = self.pending
            self.pending = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


def _message(exc: BaseException) -> str:
    text = str(getattr(exc, "message", "") or exc)
    return " ".join(text.split())


def _reason(failures: list[_Failure]) -> str:
    useful = [f for f in failures if f.message not in _NOT_MINE] or failures
    if not useful:
        return "no inventory plugin accepted it (check [inventory] enable_plugins in ansible.cfg)"

    def rank(failure: _Failure) -> int:
        name = failure.plugin.rsplit(".", 1)[-1]
        return _PLUGIN_RANK.index(name) if name in _PLUGIN_RANK else -1  # a named plugin first

    best = sorted(useful, key=rank)[0]
    return f"{best.plugin} plugin: {best.message}"


@contextlib.contextmanager
def _recording() -> Iterator[_Recorder]:
    import ansible.inventory.manager as manager

    recorder = _Recorder()
    with mock.patch.object(manager, "display", recorder):
        yield recorder


def _ensure_plugin_loader() -> None:
    """Ansible's collection finder, configured from ansible.cfg as ansible-playbook does it."""
    from ansible.plugins.loader import init_plugin_loader
    from ansible.utils.collection_loader._collection_config import (
        AnsibleCollectionConfig,
    )

    if AnsibleCollectionConfig.collection_finder is None:
        init_plugin_loader()


def source_problem(source: Path) -> str | None:
    """Why ``source`` gives no inventory, in one line, or None when every file in it parses."""
    if not source.exists():
        return "does not exist"
    if not os.access(source, os.R_OK):
        return "cannot be read (permission denied)"
    _ensure_plugin_loader()
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader

    with _recording() as recorder:
        manager = InventoryManager(loader=DataLoader(), sources=[])
        parsed = manager.parse_source(str(source), cache=True)
    if recorder.unparsed:
        path, failures = next(iter(recorder.unparsed.items()))
        if not failures and Path(path).is_dir():
            return (f"{'' if Path(path) == source else path + ': '}no inventory file in it "
                    "(group_vars and host_vars alone define no hosts)")
        where = "" if Path(path) == source else f"{path}: "
        return f"{where}{_reason(failures)}"
    if not parsed:  # pragma: no cover - Ansible always warns "Unable to parse" first
        return _reason(recorder.pending)
    return None


def check_inventory(sources: Sequence[Path]) -> None:
    """Raise EdgeopsError for the first source that gives no inventory, naming it and why.

    The sources are parsed by a child Python (same interpreter, environment and working
    directory, hence the same ansible.cfg as the run that follows).
    """
    proc = subprocess.run([sys.executable, "-m", "edgeops.inventory_check", *map(str, sources)],
                          capture_output=True, text=True, check=False)
    try:
        problems = json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        detail = " ".join(proc.stderr.split())[-300:] or f"exit status {proc.returncode}"
        raise EdgeopsError(f"inventory check failed before the run: {detail}") from None
    for source in sources:
        problem = problems.get(str(source))
        if problem:
            raise EdgeopsError(f"inventory {source}: {problem}", hint=HINT)


def main(argv: Sequence[str]) -> int:
    """Print ``{source: problem or null}`` as one JSON line (the child side of check_inventory)."""
    result: dict[str, str | None] = {}
    for arg in argv:
        try:
            result[arg] = source_problem(Path(arg))
        except Exception as exc:  # whatever Ansible raised is the reason to report
            result[arg] = " ".join(f"{type(exc).__name__}: {exc}".split())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
