#!/usr/bin/python
# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module edgeops.gitops.mysql_host_state."""

from __future__ import annotations

DOCUMENTATION = r"""
module: mysql_host_state
short_description: Read a MySQL/MariaDB host's packages, drop-in, service and runtime values, in one call
version_added: 0.2.0
author:
  - edgeops contributors (@edgeops)
description:
  - The whole state the C(mysql_host) role manages, read and compared in one read-only call - the server
    packages, the role's drop-in file (key by key), the service (enabled and running), systemd socket
    activation (must be off), and the running server's values (C(SHOW GLOBAL VARIABLES)).
  - Returns the plan as RV(changes) (the drift report's items) and RV(plan) (their keys). It never changes
    anything itself; the role installs, writes the validated drop-in, restarts or rolls back only when
    the plan is not empty.
  - In check mode a non-empty plan is reported as a change, so a drift check of the concern is this one call.
extends_documentation_fragment:
  - edgeops.gitops.attributes.PLAN_MODULE
  - edgeops.gitops.attributes.SETTINGS_CHECK
options:
  packages:
    description: Debian packages that must be installed.
    type: list
    elements: str
    default: []
  config_path:
    description: The role's drop-in file.
    type: path
    required: true
  config_content:
    description: Its whole content.
    type: str
    required: true
  service:
    description: The server's systemd service.
    type: str
    required: true
  socket_units:
    description: Socket-activation units of the package that must not be enabled or running.
    type: list
    elements: str
    default: []
  settings:
    description: Variables the running server must have, C(name -> value) (compared when it runs).
    type: dict
    default: {}
  login_unix_socket:
    description: The server's socket (the local root account authenticates by unix_socket).
    type: path
    default: /run/mysqld/mysqld.sock
requirements:
  - PyMySQL on the target, to compare the runtime values (without it, or with the server stopped, the
    plan says so instead).
"""

EXAMPLES = r"""
- name: MySQL host - read and plan (the drift check of the concern)
  edgeops.gitops.mysql_host_state:
    packages: [mariadb-server, python3-pymysql]
    config_path: /etc/mysql/mariadb.conf.d/90-edgeops.cnf
    config_content: "{{ lookup('ansible.builtin.template', 'edgeops.cnf.j2') }}"
    service: mariadb
    socket_units: [mariadb.socket]
    settings: {innodb_io_capacity: 2000}
  register: state
"""

RETURN = r"""
plan:
  description: The keys of RV(changes).
  returned: always
  type: list
  elements: str
changes:
  description: What differs, one item per key (the drift report's items).
  returned: always
  type: list
  elements: dict
  contains:
    key:
      description:
        - A variable of the drop-in or the server, C(content), C(packages), C(service NAME) or C(socket NAME).
      type: str
    before:
      description: What is there.
      type: str
    after:
      description: What the role puts there.
      type: str
    where:
      description: V(file) (the drop-in), V(runtime) (the running server) or V(state).
      type: list
      elements: str
    path:
      description: The drop-in, for its items.
      type: str
running:
  description: The service is active.
  returned: always
  type: bool
restart_required:
  description: Runtime differences in read-only variables (only a restart applies them).
  returned: always
  type: list
  elements: str
"""

import traceback
from typing import Any

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.edgeops.gitops.plugins.module_utils._items import (
    Item,
    Run,
    missing_packages,
    plan_result,
    read_file,
    service_items,
    text_items,
    unit_state,
)
from ansible_collections.edgeops.gitops.plugins.module_utils._mysql_runtime import read_runtime
from ansible_collections.edgeops.gitops.plugins.module_utils._mysql_tuning import (
    normalise_name,
    runtime_differences,
)
from ansible_collections.edgeops.gitops.plugins.module_utils._role_settings import (
    SETTINGS_CHECK_OPTION,
    refuse_wrong_settings,
)

PYMYSQL_ERROR: str | None = None
try:
    import pymysql
except ImportError:  # pragma: no cover - reported in the plan
    PYMYSQL_ERROR = traceback.format_exc()


def socket_items(units: list[str], run: Run) -> list[Item]:
    """An item per socket unit that is enabled or active (socket activation would ignore bind-address)."""
    items: list[Item] = []
    for name in units:
        enabled, active = unit_state(name, run)
        if enabled in ("enabled", "enabled-runtime") or active == "active":
            items.append(
                {
                    "key": "socket " + name,
                    "before": f"{enabled}, {active}",
                    "after": "disabled, inactive",
                    "where": ["state"],
                }
            )
    return items


def runtime_items(settings: dict[str, Any], socket: str) -> tuple[list[Item], list[str]]:
    """(items, restart_required) from the running server; an item saying why when it cannot be read."""
    if PYMYSQL_ERROR is not None:
        return [
            {
                "key": "runtime",
                "before": "not compared (PyMySQL missing)",
                "after": "compared",
                "where": ["runtime"],
            }
        ], []
    try:
        conn = pymysql.connect(unix_socket=socket, user="root", password="", connect_timeout=10)
    except pymysql.MySQLError as exc:
        return [
            {
                "key": "runtime",
                "before": f"not compared ({exc.args[-1]})",
                "after": "compared",
                "where": ["runtime"],
            }
        ], []
    try:
        with conn.cursor() as cur:
            runtime, readonly = read_runtime(cur, sorted(settings))
    finally:
        conn.close()
    diff = runtime_differences(settings, runtime)
    items: list[Item] = [
        {"key": k, "before": d["before"], "after": str(d["after"]), "where": ["runtime"]}
        for k, d in sorted(diff.items())
    ]
    return items, sorted(k for k in diff if k in readonly)


def run_module(module: AnsibleModule) -> None:
    p = module.params

    def run(argv: list[str]) -> tuple[int, str, str]:
        rc, out, err = module.run_command(argv, environ_update={"LANG": "C", "LC_ALL": "C"})
        return int(rc), str(out), str(err)

    items = []
    missing = missing_packages(p["packages"], run)
    if missing:
        items.append(
            {
                "key": "packages",
                "before": "missing " + ", ".join(missing),
                "after": "installed",
                "where": ["state"],
            }
        )
    have = read_file(p["config_path"])
    if have != p["config_content"]:
        items.extend(text_items(have, p["config_content"], p["config_path"]))
    service = service_items([p["service"]], run)
    items.extend(dict(i, where=["state"]) for i in service)
    items.extend(socket_items(p["socket_units"], run))
    running = run(["systemctl", "is-active", p["service"]])[1].strip() == "active"
    restart: list[str] = []
    if running:
        settings = {normalise_name(k): v for k, v in p["settings"].items()}
        found, restart = runtime_items(settings, p["login_unix_socket"])
        items.extend(found)
    result = plan_result(items, module.check_mode, module._diff, "mysql host")
    module.exit_json(running=running, restart_required=restart, **result)


def main() -> None:
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "list", "elements": "str", "default": []},
            "config_path": {"type": "path", "required": True},
            "config_content": {"type": "str", "required": True},
            "service": {"type": "str", "required": True},
            "socket_units": {"type": "list", "elements": "str", "default": []},
            "settings": {"type": "dict", "default": {}},
            "login_unix_socket": {"type": "path", "default": "/run/mysqld/mysqld.sock"},
            "settings_check": SETTINGS_CHECK_OPTION,
        },
        supports_check_mode=True,
    )
    refuse_wrong_settings(module)
    run_module(module)


if __name__ == "__main__":
    main()
