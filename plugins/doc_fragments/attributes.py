# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The attributes every edgeops module documents (check mode, diff mode)."""

from __future__ import annotations


class ModuleDocFragment:
    """Shared ``attributes`` documentation for edgeops modules."""

    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
"""

    # Modules that change nothing and only measure (e.g. fsync_latency).
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: This action does not modify state.
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: N/A
    details: This action does not modify state.
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
"""

    # Modules that read a concern's whole state and return its plan (etcd_disk, kubeadm_node,
    # mysql_host_state): read-only, the plan is the change in check mode.
    PLAN_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details: Read-only; in check mode a non-empty plan is reported as changed.
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    support: full
    details: The plan's items, before and after.
    description: Will return details on what has changed (or possibly needs changing in check_mode),
      when in diff mode.
"""
