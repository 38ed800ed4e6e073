# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter edgeops.gitops.setting_problems."""

from __future__ import annotations

DOCUMENTATION = r"""
name: setting_problems
short_description: The settings of a role that are wrong, each with its value and the fix
version_added: 0.1.0
author: edgeops contributors
description:
  - Checks the rules of a role's settings that its C(meta/argument_specs.yml) cannot express (a size
    that parses, a directory below another, a label that fits the filesystem, a port range that reads
    LOW-HIGH, the inventory groups kubeadm needs) and returns one line per setting that is wrong.
  - Only the wrong settings are named, all of them at once; each line names the setting, the value it
    has and how to fix it. An empty list means every setting is usable.
  - Each role hands the list to the one module that reads its host (its O(ignore:settings_check)
    option), which refuses with every line before it reads or changes anything; mysql_host asserts
    it is empty first.
options:
  _input:
    description: The role's settings, variable name to value (the role's variables as the play sees them).
    type: dict
    required: true
  role:
    description: The role whose rules apply.
    type: str
    required: true
    choices: [etcd_storage, kubeadm, mysql_host, sysctl_tuning]
"""

EXAMPLES = r"""
- name: Check the settings and write the profile in one call (as the role sysctl_tuning does)
  edgeops.gitops.sysctl_profile:
    settings_check:
      role: sysctl_tuning
      problems: >-
        {{ {'sysctl_tuning_settings': sysctl_tuning_settings}
           | edgeops.gitops.setting_problems('sysctl_tuning') }}
    settings: "{{ sysctl_tuning_settings }}"

- name: Preflight | Check the settings (only the wrong ones are reported)
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "sysctl_tuning settings are not usable: {{ __problems | join('; ') }}. Nothing was changed."
    quiet: true
  vars:
    __problems: >-
      {{ {'sysctl_tuning_settings': sysctl_tuning_settings,
          'sysctl_tuning_extra_settings': sysctl_tuning_extra_settings,
          'sysctl_tuning_path': sysctl_tuning_path,
          'sysctl_tuning_nodeport_range': sysctl_tuning_nodeport_range}
         | edgeops.gitops.setting_problems('sysctl_tuning') }}
"""

RETURN = r"""
_value:
  description:
    - One line per wrong setting, C(<setting> <rule> (got <value>); <fix>); empty when all are right.
  type: list
  elements: str
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.edgeops.gitops.plugins.module_utils._role_settings import problems


def setting_problems(values: Any, role: str) -> list[str]:
    """The wrong settings of ``role`` in ``values``; AnsibleFilterError for an unknown role."""
    try:
        return problems(role, values)
    except ValueError as exc:
        raise AnsibleFilterError(f"edgeops.gitops.setting_problems: {exc}") from None


class FilterModule:
    """edgeops.gitops.setting_problems."""

    def filters(self) -> dict[str, Any]:
        return {"setting_problems": setting_problems}
