"""``edgeops lab up --kubernetes VERSION``: lab hosts that can run a real Kubernetes node.

Everything here is LAB-ONLY: what a container on this machine needs to run the kubelet, docker and
static pods of a real cluster, which a real machine or VM does not (the kubeadm role itself stays free
of test aids).  Measured by the spike in ``tests/spikes/real_cluster/README.md``:

* ``--cgroupns=private``: docker's and the kubelet's cgroups (``/docker``, ``/kubepods``) land under the
  container's own cgroup, not at the host's cgroup root;
* ``/var/lib/docker`` on a tmpfs: overlay2 cannot sit on podman's overlay root filesystem;
* the kubelet's six kernel tunables (``setupKernelTunables``) are global sysctls: inside the container
  (its own mount namespace) files holding the kubelet's expected values are bind-mounted over them, and
  the inventory sets ``protectKernelDefaults: true``, so the kubelet only *checks* them and the host's
  values are never written (``edgeops-init`` already makes the rest of fs/kernel/vm read-only);
* a runc wrapper that clamps a negative ``oomScoreAdj`` to 0 (see :data:`RUNC_WRAPPER`);
* the control-plane images under ``edgeops.local/`` (no registry here), imported into docker from the
  binaries ``scripts/build_kubernetes.sh`` built, by a unit that runs whenever docker starts;
* a bridge CNI configuration per node (a pod network is the user's choice, not kubeadm's);
* the built flat apt repository bind-mounted read-only at :data:`REPO_MOUNT`.
"""

from __future__ import annotations

import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgeops.errors import EdgeopsError, UsageError

#: Label on each Kubernetes lab container: the release it was created for.
KUBERNETES_LABEL = "io.edgeops.kubernetes"
REPO_MOUNT = "/srv/kubernetes"
BIN_MOUNT = "/srv/kubernetes-bin"
IMAGE_REPOSITORY = "edgeops.local"
#: Where the built binaries (bin/) and the flat apt repository (repo/) are, by scripts/build_kubernetes.sh.
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_kubernetes.sh"
POD_SUBNET = "10.244.0.0/16"


@dataclass(frozen=True)
class Release:
    """A Kubernetes release the lab can bring up for real, and what its kubeadm pulls."""

    version: str
    deb_revision: str
    #: image name -> tag, as ``kubeadm config images list`` of that release prints them.
    control_plane_images: tuple[tuple[str, str], ...]
    pause: str


RELEASES: dict[str, Release] = {
    "1.20.2": Release(
        version="1.20.2",
        deb_revision="00edgeops1",
        control_plane_images=(
            ("kube-apiserver", "v1.20.2"),
            ("kube-controller-manager", "v1.20.2"),
            ("kube-scheduler", "v1.20.2"),
            # Debian 12's etcd-server (3.4.23, in the lab image) under the tag kubeadm 1.20.2 wants.
            ("etcd", "3.4.13-0"),
        ),
        pause="3.2",
    ),
}

#: kubelet's kernel tunables (pkg/kubelet/cm/container_manager_linux.go setupKernelTunables, v1.20.2)
#: and the values it expects; bound inside the container, checked (never written) by the kubelet.
KUBELET_TUNABLES: tuple[tuple[str, str], ...] = (
    ("vm/overcommit_memory", "1"),
    ("vm/panic_on_oom", "0"),
    ("kernel/panic", "10"),
    ("kernel/panic_on_oops", "1"),
    ("kernel/keys/root_maxkeys", "1000000"),
    ("kernel/keys/root_maxbytes", "25000000"),
)

#: LAB-ONLY.  This machine starts podman from processes without CAP_SYS_RESOURCE (not even in the
#: bounding set: CapBnd 000001fffeffffff), so no container here can LOWER an oom_score_adj.  The
#: kubelet's dockershim gives every pod sandbox oom_score_adj -998 and runc 1.1 treats the failed write
#: as fatal ("runc create failed: ... can't get final child's PID from pipe: EOF"): no pod would start.
#: This wrapper, found before /usr/sbin/runc on PATH by containerd's shim, sets a negative
#: process.oomScoreAdj in the bundle's config.json to 0 (OOM priority only) and runs the real runc.
#: On a machine with CAP_SYS_RESOURCE (any VM or bare-metal node) it is not needed.
RUNC_WRAPPER = """#!/bin/sh
# edgeops lab only (edgeops/lab/kubernetes.py): this machine lacks CAP_SYS_RESOURCE, so a negative
# oom_score_adj cannot be written and runc would fail every pod sandbox (-998). Clamp it to 0.
bundle=""; prev=""
for a in "$@"; do
  if [ "$prev" = --bundle ] || [ "$prev" = -b ]; then bundle=$a; fi
  prev=$a
done
if [ -n "$bundle" ] && [ -f "$bundle/config.json" ]; then
  python3 - "$bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
with open(path) as fh:
    config = json.load(fh)
process = config.get("process") or {}
if process.get("oomScoreAdj", 0) < 0:
    process["oomScoreAdj"] = 0
    with open(path, "w") as fh:
        json.dump(config, fh)
PY
fi
exec /usr/sbin/runc "$@"
"""

#: Imports the images kubeadm pulls from edgeops.local into docker; run by edgeops-lab-images.service.
IMAGES_SCRIPT = r"""#!/bin/bash
# edgeops lab only (edgeops/lab/kubernetes.py): the lab has no registry; each image kubeadm would
# pull from edgeops.local is a one-binary root filesystem imported into docker.
set -u
failed=0
mkimg() {  # REF BINARY [docker import -c ...]
  local ref=$1 bin=$2; shift 2
  docker image inspect "$ref" >/dev/null 2>&1 && return 0
  local d; d=$(mktemp -d)
  mkdir -p "$d/usr/local/bin" "$d/tmp" "$d/etc" "$d/var/run"; chmod 1777 "$d/tmp"
  cp "$bin" "$d/usr/local/bin/"
  # a dynamically linked binary (Debian's etcd) brings its libraries
  for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*'); do
    mkdir -p "$d$(dirname "$lib")"; cp -L "$lib" "$d$lib"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$d/etc/passwd"; echo 'root:x:0:' > "$d/etc/group"
  echo 'hosts: files dns' > "$d/etc/nsswitch.conf"
  if tar -C "$d" -c . | docker import -c 'ENV PATH=/usr/local/bin:/usr/bin:/bin' "$@" - "$ref" >/dev/null
  then
    echo "imported $ref"
  else
    echo "FAILED to import $ref" >&2; failed=1
  fi
  rm -rf "$d"
}
"""

IMAGES_UNIT = """[Unit]
Description=edgeops lab: import the edgeops.local images into docker (lab only)
After=docker.service
Requires=docker.service
Before=kubelet.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/edgeops-lab-images

[Install]
WantedBy=docker.service kubelet.service
"""


def bridge_conflist(subnet: str) -> str:
    """The node's bridge CNI configuration (host-local addresses from ``subnet``)."""
    return (
        '{\n  "cniVersion": "0.4.0",\n  "name": "edgeops-bridge",\n  "plugins": [\n'
        '    {"type": "bridge", "bridge": "cni0", "isGateway": true, "ipMasq": true, "hairpinMode": true,\n'
        f'     "ipam": {{"type": "host-local", "ranges": [[{{"subnet": "{subnet}"}}]],'
        ' "routes": [{"dst": "0.0.0.0/0"}]}},\n'
        '    {"type": "portmap", "capabilities": {"portMappings": true}}\n  ]\n}\n'
    )


def release(version: str) -> Release:
    """The release ``version``, or a usage error naming the ones the lab can run."""
    if version not in RELEASES:
        raise UsageError(
            f"edgeops lab up --kubernetes {version}: the lab brings up only {', '.join(RELEASES)} for real "
            "(the release scripts/build_kubernetes.sh builds)"
        )
    return RELEASES[version]


def build_dir(script: Path = BUILD_SCRIPT) -> Path:
    """The build's cache directory, with a complete flat repository and the binaries; else an error."""
    if not script.is_file():
        raise EdgeopsError("edgeops lab up --kubernetes runs from a checkout (scripts/build_kubernetes.sh)")
    proc = subprocess.run(["bash", str(script), "--print-dir"], capture_output=True, text=True, check=False)
    out = Path(proc.stdout.strip())
    missing = [str(out / f) for f in ("repo/.complete", "repo/Packages", "bin/pause", "bin/kube-apiserver",
                                      "bin/kube-controller-manager", "bin/kube-scheduler")
               if not (out / f).is_file()]
    if proc.returncode != 0 or missing:
        raise EdgeopsError(
            f"the Kubernetes build is missing ({', '.join(missing) or proc.stderr.strip()})",
            hint="run: bash scripts/build_kubernetes.sh (about 51 minutes on a fresh machine; cached after)",
        )
    return out


def podman_args(build: Path) -> list[str]:
    """Extra ``podman run`` arguments of a Kubernetes node."""
    return [
        "--cgroupns=private",
        "--tmpfs", "/var/lib/docker:rw,exec,size=8g",
        "--volume", f"{build / 'repo'}:{REPO_MOUNT}:ro",
        "--volume", f"{build / 'bin'}:{BIN_MOUNT}:ro",
    ]


def node_subnet(index: int) -> str:
    """The bridge range of the ``index``-th Kubernetes node (0: the control plane)."""
    return f"10.244.{index}.0/24"


def prepare_script(rel: Release, control_plane: bool, subnet: str) -> str:
    """Shell run in a node after boot (idempotent): everything above, nothing of the role's."""
    images = [(f"{IMAGE_REPOSITORY}/pause:{rel.pause}", f"{BIN_MOUNT}/pause",
               "-c 'ENTRYPOINT [\"/usr/local/bin/pause\"]'")]
    if control_plane:
        for name, tag in rel.control_plane_images:
            binary = "/usr/bin/etcd" if name == "etcd" else f"{BIN_MOUNT}/{name}"
            images.append((f"{IMAGE_REPOSITORY}/{name}:{tag}", binary, ""))
    image_lines = "".join(f"mkimg {shlex.quote(ref)} {shlex.quote(b)} {extra}\n" for ref, b, extra in images)
    image_lines += 'exit "$failed"\n'
    binds = "".join(
        f"bind_tunable {key} {value}\n" for key, value in KUBELET_TUNABLES
    )
    return f"""set -eu
bind_tunable() {{  # KEY VALUE: a file with the kubelet's expected value over /proc/sys/KEY
  f=/run/edgeops-lab-sysctl/$(echo "$1" | tr / _)
  if ! grep -q " /proc/sys/$1 " /proc/self/mountinfo; then
    mkdir -p /run/edgeops-lab-sysctl; echo "$2" > "$f"; mount --bind "$f" "/proc/sys/$1"
    echo "bound /proc/sys/$1 ($2)"
  fi
  [ "$(cat /proc/sys/$1)" = "$2" ] || {{ echo "/proc/sys/$1 is not $2" >&2; exit 1; }}
}}
{binds}systemctl disable --now etcd.service mariadb.service >/dev/null 2>&1 || true
install -d /usr/local/sbin /etc/cni/net.d /etc/systemd/system/docker.service.wants \\
  /etc/systemd/system/kubelet.service.wants
cat > /usr/local/sbin/runc <<'EOF_RUNC'
{RUNC_WRAPPER}EOF_RUNC
chmod 755 /usr/local/sbin/runc
cat > /usr/local/sbin/edgeops-lab-images <<'EOF_IMAGES'
{IMAGES_SCRIPT}{image_lines}EOF_IMAGES
chmod 755 /usr/local/sbin/edgeops-lab-images
cat > /etc/systemd/system/edgeops-lab-images.service <<'EOF_UNIT'
{IMAGES_UNIT}EOF_UNIT
ln -sfn ../edgeops-lab-images.service /etc/systemd/system/docker.service.wants/edgeops-lab-images.service
ln -sfn ../edgeops-lab-images.service /etc/systemd/system/kubelet.service.wants/edgeops-lab-images.service
cat > /etc/cni/net.d/10-edgeops-bridge.conflist <<'EOF_CNI'
{bridge_conflist(subnet)}EOF_CNI
systemctl daemon-reload
"""


def inventory_vars(rel: Release) -> dict[str, Any]:
    """Host variables of a Kubernetes node for a real cluster of ``rel`` (over group_vars/all)."""
    return {
        "kubeadm_kubernetes_version": rel.version,
        "kubeadm_package_repository": f"deb [trusted=yes] file:{REPO_MOUNT} ./",
        "kubeadm_package_revision": rel.deb_revision,
        "kubeadm_image_repository": IMAGE_REPOSITORY,
        # kubeadm 1.20's preflight pulls the images of skipped addon phases too (coredns, kube-proxy:
        # not built here); every other image is imported.
        "kubeadm_ignore_preflight_errors": ["ImagePull"],
        # No coredns image; kube-proxy is privileged and tunes conntrack (a global sysctl).
        "kubeadm_skip_phases": ["addon/coredns", "addon/kube-proxy"],
        "kubeadm_pod_subnet": POD_SUBNET,
        "kubeadm_kubelet_configuration": {
            # Only check the kernel tunables, never write them: the container shares the host's kernel.
            "protectKernelDefaults": True,
            # tmpfs and overlay file systems that hold other hosts' data: no disk-pressure evictions.
            "evictionHard": {"memory.available": "100Mi", "nodefs.available": "0%",
                             "nodefs.inodesFree": "0%", "imagefs.available": "0%"},
            "imageGCHighThresholdPercent": 100,
        },
    }
