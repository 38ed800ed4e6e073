"""Tests for module_utils._size, the one size parser (fio, the MySQL server, the roles)."""

from __future__ import annotations

import pytest
from ansible_collections.edgeops.gitops.plugins.module_utils._size import SizeError, parse_size


@pytest.mark.parametrize(
    ("value", "expected"),
    [(2300, 2300), ("2300", 2300), ("22m", 22 * 1024**2), ("22M", 22 * 1024**2), ("4k", 4096),
     ("4KiB", 4096), ("1g", 1024**3), (" 8 GB ", 8 * 1024**3), ("512b", 512), ("64t", 64 * 1024**4),
     ("12G", 12 * 1024**3), ("2P", 2 * 1024**5), ("1e", 1024**6), (8.0, 8), (0, 0), ("0", 0)],
)
def test_parse_size(value, expected):
    assert parse_size(value) == expected


@pytest.mark.parametrize(("value", "message"), [
    ("22x", "size '22x' (str) is not a size: use bytes"), ("", "size '' (str) is not a size"),
    ("1.5g", "size '1.5g' (str) is not a size"),
    (-1, "size -1 (int) is not a size: it must be greater than 0"),
    (True, "size True (bool) is not a size"), (2.5, "size 2.5 (float) is not a size"),
    (None, "size None (NoneType) is not a size"), (["1g"], "size ['1g'] (list) is not a size"),
])
def test_parse_size_rejects(value, message):
    with pytest.raises(SizeError) as exc:
        parse_size(value)
    assert str(exc.value).startswith(message)


@pytest.mark.parametrize("value", [0, "0m", "0"])
def test_positive_refuses_zero(value):
    with pytest.raises(SizeError, match="must be greater than 0"):
        parse_size(value, positive=True)


def test_names_the_setting_and_raises_the_callers_error():
    class Mine(Exception):
        pass

    with pytest.raises(Mine, match=r"^etcd_storage_min_size 'big' \(str\) is not a size"):
        parse_size("big", "etcd_storage_min_size", error=Mine)
