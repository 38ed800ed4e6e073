# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter edgeops.gitops.size_bytes."""

from __future__ import annotations

DOCUMENTATION = r"""
name: size_bytes
short_description: Bytes from a size such as 512m, 12G or 4KiB
version_added: 0.1.0
author: edgeops contributors
description:
  - The size syntax every size setting of the collection takes, read by the same parser the
    M(edgeops.gitops.fsync_latency) module and the P(edgeops.gitops.mysql_tuning#filter) and
    P(edgeops.gitops.etcd_disk_candidates#filter) filters use. A size is digits, optionally one of
    C(k), C(m), C(g), C(t), C(p) or C(e), optionally followed by C(b) or C(ib).
  - Units are binary (C(k) = 1024), as fio and the MySQL server read them; case is ignored.
  - Fails naming the setting, the value and its type when the value is not a size.
options:
  _input:
    description: The size, a string or a number of bytes.
    type: raw
    required: true
  name:
    description: The setting the value comes from, named in the error message.
    type: str
    default: size
"""

EXAMPLES = r"""
- name: The minimum disk size in bytes
  ansible.builtin.set_fact:
    min_bytes: "{{ etcd_storage_min_size | edgeops.gitops.size_bytes('etcd_storage_min_size') }}"
"""

RETURN = r"""
_value:
  description: The size in bytes.
  type: int
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.module_utils._size import SizeError, parse_size


def size_bytes(value: Any, name: str = "size") -> int:
    """Bytes from a size, or AnsibleFilterError naming ``name``, the value and its type."""
    try:
        return parse_size(value, str(name))
    except SizeError as exc:
        raise AnsibleFilterError(f"edgeops.gitops.size_bytes: {exc}") from exc


class FilterModule:
    """edgeops.gitops.size_bytes."""

    def filters(self) -> dict[str, Any]:
        return {"size_bytes": size_bytes}
