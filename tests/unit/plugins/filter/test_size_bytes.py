"""Tests for the edgeops.gitops.size_bytes filter (the parser itself: module_utils/test_size.py)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.filter.size_bytes import FilterModule, size_bytes


def test_registered():
    assert FilterModule().filters()["size_bytes"] is size_bytes


@pytest.mark.parametrize(("value", "expected"), [("8g", 8 * 1024**3), ("512M", 512 * 1024**2), (4096, 4096)])
def test_bytes(value, expected):
    assert size_bytes(value) == expected


def test_bad_value_names_the_setting_value_and_type():
    with pytest.raises(AnsibleFilterError) as exc:
        size_bytes("eight gigs", "etcd_storage_min_size")
    assert str(exc.value).startswith(
        "edgeops.gitops.size_bytes: etcd_storage_min_size 'eight gigs' (str) is not a size: use bytes"
    )
