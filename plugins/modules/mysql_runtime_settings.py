#!/usr/bin/python
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module edgeops.gitops.mysql_runtime_settings."""

from __future__ import annotations

DOCUMENTATION = r"""
module: mysql_runtime_settings
short_description: Compare a running MySQL/MariaDB server's global variables with desired settings
version_added: 0.1.0
author:
  - edgeops contributors (@edgeops)
description:
  - Reads C(SHOW GLOBAL VARIABLES) over the unix socket and compares every desired setting, sizes
    in bytes (C(12G) equals C(12884901888)), booleans as ON/OFF, names case-insensitively.
  - A differing dynamic variable (for example after C(SET GLOBAL innodb_io_capacity = 100)) is set
    back with C(SET GLOBAL); a differing read-only variable cannot be, and is returned in
    RV(restart_required) so the caller restarts the server on its (validated) configuration.
  - "Which variables are read-only: MariaDB reports it in C(information_schema.SYSTEM_VARIABLES);
    for MySQL a variable is treated as read-only when C(SET GLOBAL) answers error 1238."
  - With O(verify=true) nothing is changed and any difference fails the task (used after a restart).
  - Connects as O(login_user) over the unix socket only (root with unix_socket authentication on MariaDB).
extends_documentation_fragment:
  - edgeops.gitops.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
options:
  settings:
    description: Variable names to desired values, as in the option file (C(12G), C(O_DIRECT), C(ON)).
    type: dict
    required: true
  login_unix_socket:
    description: The server's unix socket.
    type: path
    default: /run/mysqld/mysqld.sock
  login_user:
    description: User to connect as over the socket.
    type: str
    default: root
  login_password:
    description: Password, only for servers where the socket user needs one.
    type: str
  verify:
    description: Change nothing; fail when any setting differs.
    type: bool
    default: false
  verify_timeout:
    description: With O(verify), seconds to wait for asynchronous changes (buffer pool resizing) to show.
    type: int
    default: 30
requirements:
  - PyMySQL on the target (C(python3-pymysql))
"""

EXAMPLES = r"""
- name: Put runtime drift back
  edgeops.gitops.mysql_runtime_settings:
    settings:
      innodb_io_capacity: 2000
      innodb_buffer_pool_size: 12G
  register: runtime

- name: Verify after a restart
  edgeops.gitops.mysql_runtime_settings:
    settings: "{{ mysql_host_settings }}"
    verify: true
"""

RETURN = r"""
differences:
  description: Settings that differed before this run, runtime value (before) and desired value (after).
  type: dict
  returned: always
  sample: {"innodb_io_capacity": {"before": "100", "after": 2000}}
changes:
  description: The same differences as a list for the drift report (its items).
  type: list
  elements: dict
  returned: always
  contains:
    key:
      description: The variable.
      type: str
    before:
      description: The server's value.
      type: str
    after:
      description: The desired value.
      type: str
    where:
      description: Always V([runtime]) (the file is compared by the role's template task).
      type: list
      elements: str
  sample: [{"key": "innodb_io_capacity", "before": "100", "after": "2000", "where": ["runtime"]}]
set_global:
  description: Variables set back with SET GLOBAL (or that would be, in check mode).
  type: list
  elements: str
  returned: always
restart_required:
  description: Differing variables that are read-only at runtime; only a restart applies them.
  type: list
  elements: str
  returned: always
runtime:
  description: The server's values of the managed variables after this run.
  type: dict
  returned: always
version:
  description: The server's version string.
  type: str
  returned: always
"""

import re
import time
import traceback
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.edgeops.gitops.plugins.module_utils._mysql_runtime import read_runtime
from ansible_collections.edgeops.gitops.plugins.module_utils._mysql_tuning import (
    normalise_name,
    normalise_value,
    runtime_differences,
)

PYMYSQL_ERROR: str | None = None
try:
    import pymysql
except ImportError:  # pragma: no cover - reported by the module
    PYMYSQL_ERROR = traceback.format_exc()

_NAME = re.compile(r"^[a-z0-9_]+$")


def sql_value(value: Any) -> int | str:
    """Desired value as a SET GLOBAL argument: integers as numbers, the rest as strings."""
    text = normalise_value(value)
    return int(text) if text.isdigit() else text


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "settings": {"type": "dict", "required": True},
            "login_unix_socket": {"type": "path", "default": "/run/mysqld/mysqld.sock"},
            "login_user": {"type": "str", "default": "root"},
            "login_password": {"type": "str", "no_log": True},
            "verify": {"type": "bool", "default": False},
            "verify_timeout": {"type": "int", "default": 30},
        },
        supports_check_mode=True,
    )
    if PYMYSQL_ERROR is not None:
        module.fail_json(msg=missing_required_lib("PyMySQL"), exception=PYMYSQL_ERROR)
    p = module.params
    settings = {normalise_name(k): v for k, v in p["settings"].items()}
    bad = sorted(k for k in settings if not _NAME.match(k))
    if bad:
        module.fail_json(msg=f"comparing settings failed: invalid variable names {bad}")
    try:
        conn = pymysql.connect(unix_socket=p["login_unix_socket"], user=p["login_user"],
                               password=p["login_password"] or "", connect_timeout=10,
                               autocommit=True)
    except pymysql.MySQLError as exc:
        module.fail_json(msg=f"connecting failed for {p['login_unix_socket']} as {p['login_user']}: {exc};"
                             " is the server running, and does the socket user authenticate by unix_socket?")
    with conn.cursor() as cur:
        runtime, readonly = read_runtime(cur, sorted(settings))
        diff = runtime_differences(settings, runtime)
        if p["verify"]:
            deadline = time.time() + p["verify_timeout"]
            while diff and time.time() < deadline:
                time.sleep(1)
                runtime, readonly = read_runtime(cur, sorted(settings))
                diff = runtime_differences(settings, runtime)
        unknown = sorted(k for k, d in diff.items() if d["before"] is None)
        if unknown:
            module.fail_json(msg=f"comparing settings failed for {runtime.get('version')}: the server has no"
                                 f" variable {', '.join(unknown)}; remove or rename it in the overrides")
        result: dict[str, Any] = {
            "changed": False, "differences": diff, "set_global": [], "restart_required": [],
            "version": runtime.get("version", ""),
            "changes": [
                {"key": k, "before": d["before"], "after": str(d["after"]), "where": ["runtime"]}
                for k, d in sorted(diff.items())
            ],
        }
        if p["verify"]:
            result["runtime"] = {k: runtime.get(k) for k in settings}
            if diff:
                module.fail_json(msg="verification failed: the running server differs from the desired"
                                     f" settings: {diff}", **result)
            module.exit_json(**result)
        for name in sorted(diff):
            if name in readonly:
                result["restart_required"].append(name)
                continue
            if not module.check_mode:
                try:
                    cur.execute(f"SET GLOBAL {name} = %s", (sql_value(diff[name]['after']),))
                except pymysql.MySQLError as exc:
                    if exc.args and exc.args[0] == 1238:  # read only variable (MySQL)
                        result["restart_required"].append(name)
                        continue
                    module.fail_json(msg=f"SET GLOBAL failed for {name}: {exc}", **result)
            result["set_global"].append(name)
        result["changed"] = bool(diff)
        if result["set_global"] and not module.check_mode:
            runtime, readonly = read_runtime(cur, sorted(settings))
        result["runtime"] = {k: runtime.get(k) for k in settings}
    conn.close()
    if module._diff:
        result["diff"] = {
            "before": "".join(f"{k} = {d['before']}\n" for k, d in sorted(diff.items())),
            "after": "".join(f"{k} = {d['after']}\n" for k, d in sorted(diff.items())),
            "before_header": "runtime (SHOW GLOBAL VARIABLES)",
            "after_header": "desired",
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
