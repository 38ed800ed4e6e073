# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter edgeops.gitops.mysql_tuning."""

from __future__ import annotations

DOCUMENTATION = r"""
name: mysql_tuning
short_description: Compute InnoDB settings for a dedicated MySQL/MariaDB host from its size
version_added: 0.1.0
author:
  - edgeops contributors (@edgeops)
description:
  - Returns the server settings (variable name to value) for a host that runs nothing but the database,
    computed from its memory, vCPUs and disk class, for the flavour and version it runs, with the
    user's overrides applied last.
  - "Memory: the plan's nominal size rules (O(memory_basis=nominal), the default). The kernel keeps part of
    a VM's RAM, so a 16 GB VM reports about 15,990 MB; a measured size within 5% below a whole GiB counts
    as that GiB, and the reference 16 GB host gets the runbook's 12G, not 11.6G. O(memory_basis=measured)
    takes the figure as given."
  - "Buffer pool: < 1 GiB RAM -> 128M, 1-4 GiB -> 50%, > 4 GiB -> 75% (MySQL's C(innodb_dedicated_server)
    table), rounded down to a multiple of C(innodb_buffer_pool_chunk_size) x instances."
  - "C(innodb_buffer_pool_instances) only where the server still has it (MySQL, MariaDB < 10.5);
    min(8, vCPUs) from 2 GiB of RAM, else 1."
  - "Redo log, as C(innodb_dedicated_server) sizes it: MySQL >= 8.4 C(innodb_redo_log_capacity) =
    vCPUs / 2 GB, at most 16 GB; MySQL 8.0.30-8.3 C(innodb_redo_log_capacity) from memory (< 2 GB 100M, 2-4 GB
    round(0.5 x GB) x 0.5 GB, 4-10.66 GB round(0.75 x GB) x 0.5 GB, 10.66-170.66 GB round(0.5625 x GB) GB,
    more 128G); MariaDB and MySQL < 8.0.30 C(innodb_log_file_size) (< 1 GiB 128M, < 8 GiB 512M,
    8-128 GiB 1G, more 2G)."
  - "Flushing by disk class: NVMe/SSD O_DIRECT and no neighbour flushing, HDD fsync and neighbour flushing.
    On MariaDB >= 11.0, where C(innodb_flush_method) is deprecated, C(innodb_data_file_buffering) expresses
    the same choice."
  - "C(innodb_io_capacity) (and C(innodb_io_capacity_max), twice it): MySQL >= 8.4 on NVMe/SSD 10000, the
    8.4 server default; MySQL < 8.4 and MariaDB on NVMe/SSD the runbook's 2000; HDD 200. O(io_capacity)
    overrides it (for example with the disk's measured random-write IOPS)."
  - "Memory guard: global buffers + per-connection buffers x C(max_connections) (MySQLTuner's maximum
    possible memory usage) must stay <= 90% of RAM. C(max_connections) is never lowered (server default
    151 unless overridden). Where the user did not set them, the guard first shrinks MariaDB's MyISAM key
    cache (C(key_buffer_size) 128M -> 8M) and then the buffer pool, never below 128M (the server default).
    If the settings still do not fit, the filter fails saying how many connections would fit and which
    overrides are responsible."
  - The reference host (16384 MB, NVMe, MariaDB 10.11 or MySQL 8.0.29) comes out as
    12G / 1G / O_DIRECT / 2000.
options:
  _input:
    description: The host's memory in MB (for example C(ansible_memtotal_mb)).
    type: int
    required: true
  vcpus:
    description: Number of vCPUs (for example C(ansible_processor_vcpus)).
    type: int
    default: 1
  disk_class:
    description: Class of the disk holding the data directory.
    type: str
    choices: [nvme, ssd, hdd]
    default: ssd
  flavour:
    description: Server flavour.
    type: str
    choices: [mariadb, mysql]
    default: mariadb
  version:
    description: Server version, C(MAJOR.MINOR[.PATCH]) with any suffix (C(10.11.6-MariaDB-0+deb12u1)).
    type: str
    default: "10.11"
  overrides:
    description: Server variables to set as given, applied after the computed ones.
    type: dict
    default: {}
  io_capacity:
    description:
      - C(innodb_io_capacity) to use instead of the computed one (at least 100);
        C(innodb_io_capacity_max) becomes twice it. Unset or C(0) means computed.
    type: int
  memory_basis:
    description:
      - C(nominal) - a measured size within 5% below a whole GiB is that GiB (the plan's size).
      - C(measured) - the size as given.
    type: str
    choices: [nominal, measured]
    default: nominal
"""

EXAMPLES = r"""
- name: Settings for the reference 16 GB NVMe host
  ansible.builtin.set_fact:
    mysql_settings: >-
      {{ 16384 | edgeops.gitops.mysql_tuning(vcpus=4, disk_class='nvme', flavour='mariadb',
                                             version='10.11') }}
  # {"innodb_buffer_pool_size": "12G", "innodb_log_file_size": "1G",
  #  "innodb_flush_method": "O_DIRECT", "innodb_flush_neighbors": 0,
  #  "innodb_io_capacity": 2000, "innodb_io_capacity_max": 4000}
"""

RETURN = r"""
_value:
  description: Server variable names (underscored) to values, sizes in server notation (C(12G)).
  type: dict
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.module_utils._mysql_tuning import (
    TuningError,
    compute_settings,
)


def mysql_tuning(memory_mb: Any, vcpus: Any = 1, disk_class: Any = "ssd", flavour: Any = "mariadb",
                 version: Any = "10.11", overrides: Any = None, io_capacity: Any = None,
                 memory_basis: Any = "nominal") -> dict[str, Any]:
    """Return the settings dict or raise AnsibleFilterError."""
    if isinstance(memory_mb, str) and memory_mb.strip().isdigit():
        memory_mb = int(memory_mb)
    if isinstance(vcpus, str) and vcpus.strip().isdigit():
        vcpus = int(vcpus)
    if isinstance(io_capacity, str) and io_capacity.strip().isdigit():
        io_capacity = int(io_capacity)
    try:
        return compute_settings(memory_mb, vcpus, disk_class, flavour, version, overrides,
                                io_capacity or None, memory_basis)
    except TuningError as exc:
        raise AnsibleFilterError(f"edgeops.gitops.mysql_tuning: {exc}") from exc


class FilterModule:
    """edgeops.gitops.mysql_tuning."""

    def filters(self) -> dict[str, Any]:
        return {"mysql_tuning": mysql_tuning}
