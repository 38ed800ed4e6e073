#!/bin/sh
# Runs inside the debootstrapped tree (chroot) before `podman import`.
set -eu
# Services the roles own start disabled: the roles enable them, so check mode
# before converge has something true to report.
for unit in mariadb.service etcd.service containerd.service; do
    systemctl disable "$unit" >/dev/null 2>&1 || true
done
# No udev, no getty, no timers that wake up in a container.
for unit in systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket \
            console-getty.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
            e2scrub_all.timer fstrim.timer; do
    systemctl mask "$unit" >/dev/null 2>&1 || true
done
# A fresh machine-id per container (systemd creates it at first boot).
: > /etc/machine-id
rm -f /var/lib/dbus/machine-id
# Keep the image small.
apt-get clean
rm -rf /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/*
