# Copyright: edgeops contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read-only probe of one block device, printed as JSON. Writes nothing.

Usage: etcd_disk_probe.py DEVICE MOUNT_POINT

Facts cannot prove a disk empty: a privileged container sees the host's
disks but not the host's mounts, and without udev there are no by-uuid
links. So this asks the kernel and the device itself:
  - sysfs: size, partitions, holders (LVM, RAID, dm-crypt);
  - /proc/self/mountinfo: where it is mounted in this mount namespace, and
    what is mounted on MOUNT_POINT;
  - an O_EXCL open: the kernel refuses it (EBUSY) while anything, in any mount
    namespace (the host's included), has the device mounted or claimed;
  - blkid -p and wipefs --no-act: filesystem, RAID, LVM and partition-table
    signatures read from the device itself.
"""

import errno
import json
import os
import stat
import subprocess
import sys

ENV = dict(os.environ, LANG="C", LC_ALL="C")


def read(path):
    with open(path) as handle:
        return handle.read().strip()


def run(argv):
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV,
                            universal_newlines=True)
    out, err = proc.communicate()
    return proc.returncode, out, err


def unescape(field):
    # mountinfo escapes space, tab, newline and backslash as octal
    return field.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\")


def mountinfo():
    entries = []
    with open("/proc/self/mountinfo") as handle:
        for line in handle:
            fields = line.split()
            sep = fields.index("-")
            entries.append({
                "majmin": fields[2], "root": unescape(fields[3]), "mount_point": unescape(fields[4]),
                "options": fields[5].split(","), "fstype": fields[sep + 1], "source": unescape(fields[sep + 2]),
            })
    return entries


def probe(device, mount_point):
    result = {"device": device, "exists": os.path.lexists(device), "is_block": False,
              "realpath": os.path.realpath(device), "name": "", "size_bytes": 0, "majmin": "",
              "partitions": [], "holders": [], "mounts": [], "in_use": False, "in_use_error": "",
              "blkid": {}, "blkid_rc": None, "wipefs": [], "target_mount": None, "errors": []}
    for entry in mountinfo():
        if entry["mount_point"] == mount_point:
            result["target_mount"] = entry  # the last one is the one on top
    if not result["exists"]:
        return result
    mode = os.stat(device).st_mode
    if not stat.S_ISBLK(mode):
        return result
    result["is_block"] = True
    rdev = os.stat(device).st_rdev
    majmin = "%d:%d" % (os.major(rdev), os.minor(rdev))
    result["majmin"] = majmin
    sysdir = "/sys/dev/block/" + majmin
    result["name"] = os.path.basename(os.path.realpath(sysdir))
    result["size_bytes"] = int(read(sysdir + "/size")) * 512
    partition_majmins = {}
    for entry in sorted(os.listdir(sysdir)):
        if os.path.exists(os.path.join(sysdir, entry, "partition")):
            result["partitions"].append(entry)
            partition_majmins[read(os.path.join(sysdir, entry, "dev"))] = entry
    if os.path.isdir(sysdir + "/holders"):
        result["holders"] = sorted(os.listdir(sysdir + "/holders"))
    for entry in mountinfo():
        if entry["majmin"] == majmin or entry["majmin"] in partition_majmins:
            entry["partition"] = partition_majmins.get(entry["majmin"])
            result["mounts"].append(entry)
    try:
        # blkid exits 2 ("nothing found") also when it cannot open the device:
        # only trust its silence when the device can be read here.
        with open(device, "rb") as handle:
            handle.read(4096)
    except OSError as exc:
        result["errors"].append("reading %s failed: %s" % (device, exc.strerror or exc))
        return result
    try:
        os.close(os.open(device, os.O_RDONLY | os.O_EXCL))
    except OSError as exc:
        result["in_use"] = exc.errno == errno.EBUSY
        result["in_use_error"] = "%s: %s" % (errno.errorcode.get(exc.errno, exc.errno), exc.strerror)
        if exc.errno != errno.EBUSY:
            result["errors"].append("exclusive open of %s failed: %s" % (device, exc.strerror))
    rc, out, err = run(["blkid", "-p", "-o", "export", device])
    result["blkid_rc"] = rc
    if rc == 0:
        for line in out.splitlines():
            if "=" in line:
                key, value = line.split("=", 1)
                result["blkid"][key] = value
    elif rc != 2:  # 2: nothing found
        result["errors"].append("blkid -p failed for %s (rc %d): %s" % (device, rc, err.strip()))
    rc, out, err = run(["wipefs", "--no-act", "--json", device])
    if rc == 0:
        if out.strip():
            result["wipefs"] = json.loads(out).get("signatures", [])
    else:
        result["errors"].append("wipefs --no-act failed for %s (rc %d): %s" % (device, rc, err.strip()))
    return result


def main(argv):
    if len(argv) != 3:
        print(json.dumps({"errors": ["usage: etcd_disk_probe.py DEVICE MOUNT_POINT"]}))
        return 2
    print(json.dumps(probe(argv[1], argv[2]), sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
