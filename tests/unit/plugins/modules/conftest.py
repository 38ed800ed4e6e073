"""Drive a module's ``main()`` in-process, the same way on every ansible-core the collection admits.

``ansible.module_utils.testing.patch_module_args`` exists from ansible-core 2.19 on; the
collection admits 2.16 and later (meta/runtime.yml), and scripts/matrix.sh runs these tests on
each minor, so the arguments go in through ``basic._ANSIBLE_ARGS``, which every release reads.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from ansible.module_utils import basic


@pytest.fixture
def module_args(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``module_args(args)``: the arguments the next ``AnsibleModule`` in this test reads."""

    def _set(args: dict[str, Any]) -> None:
        payload = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode("utf-8")
        monkeypatch.setattr(basic, "_ANSIBLE_ARGS", payload)
        monkeypatch.setattr(basic, "_ANSIBLE_PROFILE", "legacy", raising=False)  # 2.19 and later

    # Run as on a target (2.19 and later): once controller code is imported in this process
    # (filter tests import ansible.errors), module warnings would go to the console instead of
    # result["warnings"]. Earlier releases always put them in the result.
    try:
        internal = importlib.import_module("ansible.module_utils._internal")
    except ImportError:
        internal = None
    if internal is not None and hasattr(internal, "is_controller"):
        monkeypatch.setattr(internal, "is_controller", False)
    return _set
