# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inventory plugin edgeops.gitops.terraform_state."""

from __future__ import annotations

DOCUMENTATION = r"""
name: terraform_state
short_description: Hosts from a Terraform state file (format version 4), no terraform binary needed
version_added: 0.1.0
author: edgeops contributors (@edgeops)
description:
  - Reads a Terraform state file (format version 4, as written by Terraform 0.12 and later and by
    OpenTofu) directly as JSON and turns its managed resources into inventory hosts. The C(terraform)
    binary is not needed and the state is never modified.
  - By default one host per machine resource - the VM types of the common providers, see
    O(resource_types) - so an AWS C(aws_eip), a network interface or a floating IP attached to a VM is not
    a second host. A state with none of those types falls back to every managed resource that has one of
    the O(address_attributes). Set O(resource_types) to choose the resource types explicitly.
  - The inventory hostname comes from the first of O(hostname_attributes) the resource has;
    C(ansible_host) from the first usable address in O(address_attributes), private (RFC 1918 or
    IPv6 ULA) addresses first when O(prefer_private) is set.
  - Every host joins a group named after its resource block (C(resource "upcloud_server" "k8s_worker"),
    with C(count) or C(for_each), puts all its instances in group C(k8s_worker)) and, inside a module, a
    group named after the module call too (C(module.k8s_worker.openstack_compute_instance_v2.this) joins
    C(this) and C(k8s_worker)), and the usual
    O(keyed_groups), O(groups) and O(compose) of the constructed plugins work on the host variables
    listed below.
  - 'Host variables set: C(terraform_address) (resource address, e.g. C(upcloud_server.k8s_worker[0])),
    C(terraform_type), C(terraform_resource_name), C(terraform_module) (or null), C(terraform_index)
    (the C(count) index or C(for_each) key, or null), C(terraform_attributes) (the instance attributes
    with the ones the state marks sensitive removed) and C(ansible_host).'
  - The configuration file name must end with C(terraform_state.yml) or C(terraform_state.yaml).
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
options:
  plugin:
    description: Marks this as a configuration file for this plugin.
    type: str
    required: true
    choices: [edgeops.gitops.terraform_state]
  state_file:
    description:
      - Path of the Terraform state file. A relative path is relative to the directory of this
        configuration file; C(~) is expanded.
    type: str
    default: terraform.tfstate
  resource_types:
    description:
      - Terraform resource types that become hosts, for example C(upcloud_server) or C(libvirt_domain).
      - When empty, the machine resource types of the common providers present in the state become hosts -
        C(libvirt_domain), C(aws_instance), C(google_compute_instance), C(azurerm_linux_virtual_machine),
        C(azurerm_windows_virtual_machine), C(azurerm_virtual_machine), C(openstack_compute_instance_v2),
        C(hcloud_server), C(digitalocean_droplet), C(vsphere_virtual_machine), C(proxmox_vm_qemu),
        C(proxmox_virtual_environment_vm), C(upcloud_server); if the state has none of them, every managed
        resource that has at least one of the O(address_attributes) becomes a host.
      - When set, an instance of one of these types without a usable address is an error.
    type: list
    elements: str
    default: []
  hostname_attributes:
    description:
      - Attribute paths tried in order for the inventory hostname. When none is set, the hostname is the
        resource type, name and index (C(libvirt_domain_k8s_worker_0)).
    type: list
    elements: str
    default: [hostname, name, tags.Name]
  address_attributes:
    description:
      - Attribute paths tried in order for C(ansible_host). A path is dot separated; C(*) walks every element
        of a list or value of a map, a number picks one list element
        (C(network_interface.*.ip_address), C(network_interface.0.addresses.*)).
      - Private attribute names come first in the default list.
      - Only values that are IP addresses count; CIDR ranges, host names and empty values are skipped.
      - 'The default covers the documented address attributes of the machine resources: libvirt
        C(network_interface.*.addresses.*); AWS C(private_ip), C(public_ip); GCP
        C(network_interface.*.network_ip), C(network_interface.*.access_config.*.nat_ip); Azure
        C(private_ip_address), C(private_ip_addresses), C(public_ip_address); OpenStack
        C(network.*.fixed_ip_v4), C(access_ip_v4); Hetzner C(network.*.ip), C(ipv4_address); DigitalOcean
        C(ipv4_address_private), C(ipv4_address); vSphere C(default_ip_address), C(guest_ip_addresses.*);
        Proxmox C(default_ipv4_address) (Telmate), C(ipv4_addresses.*.*) (bpg); UpCloud
        C(network_interface.*.ip_address).'
      - Loopback, link-local and unspecified addresses never count.
    type: list
    elements: str
    default:
      - private_ip
      - private_ip_address
      - private_ip_addresses.*
      - private_ipv4
      - ipv4_address_private
      - network_interface.*.network_ip
      - network.*.fixed_ip_v4
      - network.*.ip
      - access_ip_v4
      - network_interface.*.ip_address
      - network_interface.*.addresses.*
      - default_ipv4_address
      - ipv4_addresses.*.*
      - guest_ip_addresses.*
      - default_ip_address
      - ipv4_address
      - ip_address
      - public_ip
      - public_ip_address
      - public_ip_addresses.*
      - network_interface.*.access_config.*.nat_ip
      - ipv6_address
  prefer_private:
    description:
      - Among the addresses found, take the first private one (RFC 1918 IPv4 or IPv6 unique local)
        before any public one, whatever the order of O(address_attributes).
    type: bool
    default: true
  on_missing_address:
    description:
      - What to do with a host resource whose address attributes hold no usable IP address
        (for example a machine that is not running yet).
      - V(error) stops with an error naming the resource, V(warn) leaves the host out with a warning,
        V(skip) leaves it out silently.
    type: str
    choices: [error, warn, skip]
    default: error
  group_prefix:
    description: Prefix for the groups made from resource names.
    type: str
    default: ''
notes:
  - Only state format version 4 is read. Files from Terraform 0.11 and older (version 3) must be upgraded
    by running C(terraform apply) or C(terraform refresh) once with Terraform 0.12 or later.
  - Data sources (C(mode=data)) and deposed objects (the old half of a C(create_before_destroy)
    replacement) never become hosts; two resources that give the same hostname are an error.
  - With O(cache) enabled the parsed hosts are kept until O(cache_timeout) even when the state file
    changes; refresh with C(ansible-inventory --flush-cache).
  - An OpenTofu state encrypted with state encryption (C(encrypted_data), no C(version)) cannot be read;
    the error says so. Decrypt it first (C(tofu state pull > plain.tfstate) where the encryption is
    configured) and point O(state_file) at the plain copy.
  - "Errors are not fatal by default: with ansible-core's defaults a source that fails to parse (missing
    or corrupt state file, encrypted state) is only a C([WARNING]) and C(ansible-playbook) runs on an empty
    inventory and exits 0. To make plain Ansible fail, set C(unparsed_is_failed = true) and
    C(any_unparsed_is_failed = true) in the C([inventory]) section of C(ansible.cfg) (or
    C(ANSIBLE_INVENTORY_UNPARSED_FAILED=true) and C(ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true)), as the
    collection's C(inventory/example/ansible.cfg) does. C(edgeops apply) and C(edgeops drift) check every
    inventory source before a run and name the one that fails, and why, in one line."
"""

EXAMPLES = r"""
# inventory/terraform_state.yml -- the reference topology from a Terraform state file
plugin: edgeops.gitops.terraform_state
state_file: ../terraform/terraform.tfstate
resource_types: [upcloud_server]
keyed_groups:
  - key: terraform_attributes.zone
    prefix: zone
  - key: terraform_attributes.plan
    prefix: plan
groups:
  k8s_cluster: terraform_resource_name in ['k8s_master', 'k8s_worker']
compose:
  edgeops_plan: terraform_attributes.plan

---
# Any managed resource with an IP attribute, public addresses allowed, cached for an hour
plugin: edgeops.gitops.terraform_state
state_file: /srv/terraform/prod.tfstate
prefer_private: false
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/edgeops-inventory
cache_timeout: 3600
"""

import ipaddress
import json
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from ansible.errors import AnsibleParserError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable
from ansible_collections.edgeops.gitops.plugins.module_utils._netaddr import is_rfc1918

SUPPORTED_STATE_VERSION = 4

#: One host per machine: the VM resource types of the common providers (their registry docs,
#: "Attributes Reference", name the address attributes in DOCUMENTATION's address_attributes).
MACHINE_TYPES = (
    "libvirt_domain",  # dmacvicar/libvirt
    "aws_instance",  # hashicorp/aws
    "google_compute_instance",  # hashicorp/google
    "azurerm_linux_virtual_machine",  # hashicorp/azurerm
    "azurerm_windows_virtual_machine",
    "azurerm_virtual_machine",
    "openstack_compute_instance_v2",  # terraform-provider-openstack/openstack
    "hcloud_server",  # hetznercloud/hcloud
    "digitalocean_droplet",  # digitalocean/digitalocean
    "vsphere_virtual_machine",  # hashicorp/vsphere
    "proxmox_vm_qemu",  # Telmate/proxmox
    "proxmox_virtual_environment_vm",  # bpg/proxmox
    "upcloud_server",  # UpCloudLtd/upcloud
)
_MODULE_CALL = re.compile(r"module\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?$")
_UNSAFE_GROUP_CHARS = re.compile(r"[^A-Za-z0-9_]")


class TerraformStateError(ValueError):
    """A state file that cannot be turned into an inventory."""


def walk_path(value: Any, path: str) -> list[Any]:
    """Every value found at dotted ``path`` below ``value`` (``*`` fans out)."""
    current = [value]
    for part in path.split("."):
        found: list[Any] = []
        for item in current:
            if part == "*":
                if isinstance(item, list):
                    found.extend(item)
                elif isinstance(item, dict):
                    found.extend(item.values())
            elif isinstance(item, dict):
                if part in item:
                    found.append(item[part])
            elif isinstance(item, list) and part.isdigit() and int(part) < len(item):
                found.append(item[int(part)])
        current = found
    return [v for v in current if v is not None]


def _as_address(value: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return None
    if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
        return None  # never a way to reach the machine (bpg/proxmox lists the guest's 127.0.0.1)
    return ip


def is_private(address: str) -> bool:
    """RFC 1918 IPv4 or IPv6 unique local (fc00::/7) address."""
    ip = ipaddress.ip_address(address)
    if ip.version == 4:
        return is_rfc1918(str(ip))
    return ip in ipaddress.ip_network("fc00::/7")


def pick_address(attributes: Any, paths: Iterable[str], prefer_private: bool = True) -> str | None:
    """The host address from ``attributes``: first usable one, private first if asked."""
    found: list[str] = []
    for path in paths:
        for value in walk_path(attributes, path):
            ip = _as_address(value)
            if ip is not None and str(ip) not in found:
                found.append(str(ip))
    if prefer_private:
        for addr in found:
            if is_private(addr):
                return addr
    return found[0] if found else None


def _path_step(step: dict[str, Any]) -> str | int | None:
    """One step of a state path: an attribute name, or an index (cty JSON ``{value, type}``)."""
    value = step.get("value")
    if step.get("type") == "index" and isinstance(value, dict):
        value = value.get("value")
    if step.get("type") not in ("get_attr", "index") or not isinstance(value, (str, int)):
        return None
    return value


def _strip_sensitive(attributes: Any, sensitive_paths: Any) -> Any:
    """A copy of ``attributes`` without the values the state marks sensitive."""
    result = json.loads(json.dumps(attributes))
    for path in sensitive_paths or []:
        steps = [_path_step(s) for s in path if isinstance(s, dict)]
        if not steps or None in steps:
            continue
        parent = result
        for step in steps[:-1]:
            try:
                parent = parent[step]
            except (KeyError, IndexError, TypeError):
                parent = None
                break
        if isinstance(parent, dict):
            parent.pop(steps[-1], None)
        elif isinstance(parent, list) and isinstance(steps[-1], int) and steps[-1] < len(parent):
            parent[steps[-1]] = None
    return result


def load_state(path: str) -> dict[str, Any]:
    """Parsed state version 4 from ``path``; raises TerraformStateError with a clear cause."""
    if not os.path.exists(path):
        raise TerraformStateError(
            f"Terraform state file {path} does not exist; set state_file to the path of a "
            "terraform.tfstate (run 'terraform state pull > terraform.tfstate' for a remote backend)"
        )
    try:
        with open(path, encoding="utf-8") as handle:
            state = json.load(handle)
    except ValueError as exc:
        raise TerraformStateError(f"Terraform state file {path} is not valid JSON: {exc}") from exc
    except OSError as exc:
        raise TerraformStateError(f"Terraform state file {path} cannot be read: {exc}") from exc
    if not isinstance(state, dict):
        raise TerraformStateError(
            f"Terraform state file {path} is not a Terraform state: expected a JSON object, "
            f"got {type(state).__name__}"
        )
    if "encrypted_data" in state and "version" not in state:
        # OpenTofu state encryption: the whole state is one encrypted payload, recognised by
        # ``encrypted_data`` + ``encryption_version`` (opentofu/opentofu internal/encryption/base.go).
        raise TerraformStateError(
            f"Terraform state file {path} is encrypted (OpenTofu state encryption, "
            f"encryption_version {state.get('encryption_version')!r}) and cannot be read without its "
            "key; decrypt it first ('tofu state pull > plain.tfstate' run where the encryption "
            "is configured writes the plain state) and point state_file at the plain copy"
        )
    version = state.get("version")
    if version != SUPPORTED_STATE_VERSION:
        hint = ""
        if isinstance(version, int) and version < SUPPORTED_STATE_VERSION:
            hint = (
                "; upgrade it by running 'terraform apply' or 'terraform refresh' once with "
                "Terraform 0.12 or later"
            )
        raise TerraformStateError(
            f"Terraform state file {path} has unsupported format version {version!r}; only version "
            f"{SUPPORTED_STATE_VERSION} is supported{hint}"
        )
    if not isinstance(state.get("resources", []), list):
        raise TerraformStateError(f"Terraform state file {path}: 'resources' is not a list")
    return state


def _resource_address(resource: dict[str, Any], index: Any) -> str:
    address = f"{resource.get('type')}.{resource.get('name')}"
    if resource.get("module"):
        address = f"{resource['module']}.{address}"
    if isinstance(index, int):
        address += f"[{index}]"
    elif index is not None:
        address += f'["{index}"]'
    return address


def hosts_from_state(
    state: dict[str, Any],
    resource_types: Sequence[str] = (),
    hostname_attributes: Sequence[str] = ("hostname", "name"),
    address_attributes: Sequence[str] = (),
    prefer_private: bool = True,
    on_missing_address: str = "error",
) -> tuple[list[dict[str, Any]], list[str]]:
    """Host records (dicts) from a parsed state; pure, no Ansible inventory involved.

    Returns ``(hosts, warnings)``.
    """
    hosts: list[dict[str, Any]] = []
    warnings: list[str] = []
    seen: dict[str, str] = {}
    top_keys = {p.split(".", 1)[0] for p in address_attributes}
    if not resource_types:
        present = {r.get("type") for r in state.get("resources", []) if isinstance(r, dict)
                   and r.get("mode", "managed") == "managed"}
        resource_types = tuple(t for t in MACHINE_TYPES if t in present)
    for resource in state.get("resources", []):
        if not isinstance(resource, dict) or resource.get("mode", "managed") != "managed":
            continue
        rtype = resource.get("type")
        if resource_types and rtype not in resource_types:
            continue
        for instance in resource.get("instances") or []:
            if instance.get("deposed"):
                continue  # an old object create_before_destroy is about to delete
            attributes = instance.get("attributes") or {}
            if not resource_types and not top_keys.intersection(attributes):
                continue  # not an addressable resource (network, volume, ...)
            index = instance.get("index_key")
            address = _resource_address(resource, index)
            ansible_host = pick_address(attributes, address_attributes, prefer_private)
            if ansible_host is None:
                message = (
                    f"Terraform resource {address} has no usable address: none of the attributes "
                    f"{', '.join(address_attributes)} holds an IP address; set address_attributes to the "
                    "attribute that does, or on_missing_address to warn or skip"
                )
                if on_missing_address == "error":
                    raise TerraformStateError(message)
                if on_missing_address == "warn":
                    warnings.append(message)
                continue
            hostname = None
            for path in hostname_attributes:
                values = [v for v in walk_path(attributes, path) if isinstance(v, str) and v]
                if values:
                    hostname = values[0]
                    break
            if hostname is None:  # never just the resource name: that is the group's name
                hostname = f"{rtype}_{resource.get('name')}"
                hostname += "" if index is None else f"_{index}"
            if hostname in seen:
                raise TerraformStateError(
                    f"Terraform resources {seen[hostname]} and {address} both give the inventory "
                    f"hostname {hostname!r}; set hostname_attributes to an attribute that is unique"
                )
            seen[hostname] = address
            groups = [resource.get("name")]
            module_call = _MODULE_CALL.search(resource.get("module") or "")
            if module_call and module_call.group(1) not in groups:
                groups.append(module_call.group(1))
            hosts.append(
                {
                    "name": hostname,
                    "group": resource.get("name"),
                    "groups": groups,
                    "vars": {
                        "ansible_host": ansible_host,
                        "terraform_address": address,
                        "terraform_type": rtype,
                        "terraform_resource_name": resource.get("name"),
                        "terraform_module": resource.get("module"),
                        "terraform_index": index,
                        "terraform_attributes": _strip_sensitive(
                            attributes, instance.get("sensitive_attributes")
                        ),
                    },
                }
            )
    return hosts, warnings


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Hosts from a Terraform state file."""

    NAME = "edgeops.gitops.terraform_state"

    def verify_file(self, path: str) -> bool:
        if not BaseInventoryPlugin.verify_file(self, path):
            return False
        return path.endswith(("terraform_state.yml", "terraform_state.yaml"))

    def _state_path(self, config_path: str) -> str:
        state_file = os.path.expanduser(str(self.get_option("state_file")))
        if not os.path.isabs(state_file):
            state_file = os.path.join(os.path.dirname(os.path.abspath(config_path)), state_file)
        return os.path.normpath(state_file)

    def _read_hosts(self, config_path: str) -> tuple[list[dict[str, Any]], list[str]]:
        try:
            state = load_state(self._state_path(config_path))
            return hosts_from_state(
                state,
                resource_types=self.get_option("resource_types") or (),
                hostname_attributes=self.get_option("hostname_attributes") or (),
                address_attributes=self.get_option("address_attributes") or (),
                prefer_private=self.get_option("prefer_private"),
                on_missing_address=self.get_option("on_missing_address"),
            )
        except TerraformStateError as exc:
            raise AnsibleParserError(f"{self.NAME}: {to_native(exc)}") from exc

    def parse(self, inventory: Any, loader: Any, path: str, cache: bool = True) -> None:
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        result = None
        if use_cache:
            try:
                result = self._cache[cache_key]
            except KeyError:
                update_cache = True
        if result is None:
            hosts, warnings = self._read_hosts(path)
            result = {"hosts": hosts, "warnings": warnings}
        if update_cache:
            self._cache[cache_key] = result
        for message in result["warnings"]:
            self.display.warning(f"{self.NAME}: {message}")
        self._populate(result["hosts"])

    def _populate(self, hosts: list[dict[str, Any]]) -> None:
        strict = self.get_option("strict")
        inventory = self.inventory
        if inventory is None:  # parse() sets it before it calls this
            raise AnsibleParserError(f"{self.NAME}: no inventory to populate")
        prefix = self.get_option("group_prefix") or ""
        for host in hosts:
            name = inventory.add_host(to_text(host["name"]))
            for group_name in host.get("groups") or [host["group"]]:  # cached results may predate "groups"
                group = _UNSAFE_GROUP_CHARS.sub("_", f"{prefix}{group_name}")
                inventory.add_group(group)
                inventory.add_child(group, name)
            for key, value in host["vars"].items():
                inventory.set_variable(name, key, value)
            hostvars = _host(inventory, name).get_vars()
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            hostvars = _host(inventory, name).get_vars()
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)


def _host(inventory: Any, name: str) -> Any:
    """The inventory's host ``name`` (just added)."""
    host = inventory.get_host(name)
    if host is None:
        raise AnsibleParserError(f"edgeops.gitops.terraform_state: host {name} vanished from the inventory")
    return host
