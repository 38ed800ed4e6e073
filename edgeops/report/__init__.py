"""The drift report for the command line.

The report logic itself lives in the collection,
``plugins/plugin_utils/_drift_report.py``, because the ``edgeops.gitops.drift``
callback plugin needs it where the ``edgeops`` Python package is not
installed (AWX execution environments, plain ``ansible-playbook``).  One
implementation, two adapters: :mod:`edgeops.report.events` feeds it
ansible-runner events, the callback feeds it Ansible's callback results.
This package loads that module from the installed collection (the same one
ansible-playbook runs) and adds the terminal rendering.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path
from types import ModuleType

from edgeops.errors import EdgeopsError

_MODULE = "ansible_collections.edgeops.gitops.plugins.plugin_utils._drift_report"
_ATOMIC = "ansible_collections.edgeops.gitops.plugins.plugin_utils._atomic"


def _candidate_roots() -> list[Path]:
    roots: list[Path] = []
    for var in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_COLLECTIONS_PATHS"):
        roots += [Path(p) for p in os.environ.get(var, "").split(os.pathsep) if p]
    checkout = Path(__file__).resolve().parents[2]
    roots += [
        checkout / ".cache" / "collections",
        Path.home() / ".ansible" / "collections",
        Path("/usr/share/ansible/collections"),
    ]
    return roots


def load_report_module() -> ModuleType:
    """Import the collection's report logic, adding its collections root to sys.path."""
    try:
        return importlib.import_module(_MODULE)
    except ImportError:
        pass
    for root in _candidate_roots():
        if (root / "ansible_collections" / "edgeops" / "gitops" / "plugins" / "plugin_utils").is_dir():
            sys.path.insert(0, str(root))
            # ansible_collections may already be imported (from site-packages) as a
            # namespace package: extend its search path rather than shadow it.
            ns = sys.modules.get("ansible_collections")
            if ns is not None and hasattr(ns, "__path__"):
                path = str(root / "ansible_collections")
                if path not in list(ns.__path__):
                    ns.__path__.append(path)
            try:
                return importlib.import_module(_MODULE)
            except ImportError:
                continue
    raise EdgeopsError(
        "the edgeops.gitops collection is not installed where Ansible can find it",
        hint="install it (ansible-galaxy collection install edgeops.gitops) or set ANSIBLE_COLLECTIONS_PATH",
    )


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write a file atomically with the collection's one writer (``plugin_utils/_atomic.py``)."""
    load_report_module()  # puts the collection on sys.path (or says how to install it)
    importlib.import_module(_ATOMIC).write_atomic(path, data)
