"""``edgeops lab``: the reference topology on this machine (podman + systemd)."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from rich.table import Table

from edgeops import console
from edgeops.lab.image import DISTROS, check_distro, ensure_image
from edgeops.lab.manager import CONNECTIONS, DEFAULT_STATE_DIR, Lab, LabConfig
from edgeops.lab.podman import Podman
from edgeops.rc import RC


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``lab`` and its subcommands."""
    lab = sub.add_parser(
        "lab", help="the local lab: reference topology as podman containers", description=__doc__
    )
    lab_sub = lab.add_subparsers(dest="lab_command", metavar="ACTION", parser_class=type(lab))
    lab_sub.required = True

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--state-dir",
            type=Path,
            default=DEFAULT_STATE_DIR,
            help=f"where loop-device backing files and state live (default {DEFAULT_STATE_DIR})",
        )
        p.add_argument(
            "--inventory-dir",
            type=Path,
            default=Path("inventory/lab"),
            help="where to write the lab inventory (default inventory/lab)",
        )

    up = lab_sub.add_parser("up", help="build the image if needed, start the five hosts")
    # No argparse `choices`: check_distro gives the one-line error the CLI promises.
    up.add_argument("--distro", default="bookworm", help=f"Debian release: {', '.join(DISTROS)}")
    up.add_argument(
        "--connection", choices=CONNECTIONS, default="ssh",
        help="how the inventory reaches the hosts: ssh (default: a non-root user with sudo, the lab's "
             "key pair, host keys pinned) or podman (podman exec as root)",
    )
    up.add_argument(
        "--kubernetes", metavar="VERSION", default=None,
        help="make the Kubernetes hosts able to run a real cluster of this release (only 1.20.2, the one "
             "scripts/build_kubernetes.sh builds): its packages and images instead of the stand-ins, and the "
             "lab-only measures this machine needs (edgeops/lab/kubernetes.py); then 'edgeops apply' runs "
             "real kubeadm init and join",
    )
    common(up)
    up.set_defaults(func=_up)

    down = lab_sub.add_parser(
        "down", help="remove the hosts, loop devices, backing files, the lab's SSH keys and known_hosts"
    )
    common(down)
    down.set_defaults(func=_down)

    status = lab_sub.add_parser("status", help="show each host's state")
    status.add_argument("--format", choices=("table", "json"), default="table")
    common(status)
    status.set_defaults(func=_status)

    image = lab_sub.add_parser("image", help="build (or confirm) the lab image and print its name")
    image.add_argument("--distro", default="bookworm", help=f"Debian release: {', '.join(DISTROS)}")
    image.add_argument("--force", action="store_true", help="rebuild even when the recipe is unchanged")
    image.set_defaults(func=_image)


def _config(args: argparse.Namespace) -> LabConfig:
    return LabConfig(
        distro=check_distro(getattr(args, "distro", "bookworm")),
        state_dir=args.state_dir,
        inventory_dir=args.inventory_dir,
        connection=getattr(args, "connection", "ssh"),
        kubernetes=getattr(args, "kubernetes", None),
    )


def _print_actions(actions: list[str], nothing: str) -> None:
    err = console.stderr()
    for line in actions or [nothing]:
        err.print(f"lab: {line}")


def _up(args: argparse.Namespace) -> RC:
    config = _config(args)
    actions = Lab(config).up()
    _print_actions(actions, "already up; nothing changed")
    console.stdout().print(str(config.inventory_dir / "hosts.yml"))
    return RC.OK


def _down(args: argparse.Namespace) -> RC:
    actions = Lab(_config(args)).down()
    _print_actions(actions, "no lab found; nothing to do")
    return RC.OK


def _status(args: argparse.Namespace) -> RC:
    rows = Lab(_config(args)).status()
    out = console.stdout()
    if args.format == "json":
        out.print_json(json.dumps([asdict(r) for r in rows]))
        return RC.OK
    table = Table(title="edgeops lab")
    for col in ("host", "container", "systemd", "address", "etcd disk", "image"):
        table.add_column(col)
    for r in rows:
        table.add_row(r.name, r.state, r.systemd, r.address, r.etcd_disk, r.image)
    out.print(table)
    return RC.OK


def _image(args: argparse.Namespace) -> RC:
    podman = Podman()
    podman.ensure_usable()
    name, built = ensure_image(check_distro(args.distro), podman, force=args.force)
    console.stderr().print(f"lab: {'built' if built else 'up to date'}: {name}")
    console.stdout().print(name)
    return RC.OK
