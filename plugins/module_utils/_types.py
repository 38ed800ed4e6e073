# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Type names for error messages (no Ansible imports)."""

from __future__ import annotations


def type_name(value: object) -> str:
    """The plain type name of a value, for error messages.

    ansible-core 2.19 hands filters tagged subclasses (``_AnsibleTaggedStr``,
    ``_AnsibleTaggedDict``); users should read ``str`` and ``dict``.
    """
    for base in (bool, int, float, str, dict, list, tuple):
        if isinstance(value, base):
            return base.__name__
    return type(value).__name__
