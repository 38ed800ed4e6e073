"""Plain type names for error messages."""

from __future__ import annotations

import pytest
from ansible_collections.edgeops.gitops.plugins.module_utils._types import type_name


class TaggedStr(str):
    """Like ansible-core 2.19's _AnsibleTaggedStr."""


class TaggedDict(dict):
    """Like ansible-core 2.19's _AnsibleTaggedDict."""


@pytest.mark.parametrize(
    ("value", "expected"),
    [(TaggedStr("x"), "str"), (TaggedDict(), "dict"), (True, "bool"), (3, "int"), (1.5, "float"),
     ([], "list"), (None, "NoneType"), (b"x", "bytes")],
)
def test_type_name(value, expected):
    assert type_name(value) == expected
