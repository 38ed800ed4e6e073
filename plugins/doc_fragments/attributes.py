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

    # The settings check a role hands to the one module that reads its host
    # (module_utils/_role_settings.py SETTINGS_CHECK_OPTION).
    SETTINGS_CHECK = r"""
options:
  settings_check:
    description:
      - What the calling role's settings check (the P(edgeops.gitops.setting_problems#filter) filter, run
        on the controller) found wrong.
      - "When O(settings_check.problems) is not empty the module fails at once, naming every wrong setting
        (C(<role> settings are not usable: ...; Nothing was changed.)), before it reads or changes anything.
        The check and the read are one task: a role's check run is one call."
    type: dict
    suboptions:
      role:
        description: The role whose settings were checked (named in the error).
        type: str
        required: true
        choices: [etcd_storage, kubeadm, mysql_host, sysctl_tuning]
      problems:
        description: One line per wrong setting, as the filter returns them; empty when all are right.
        type: list
        elements: str
        default: []
"""
