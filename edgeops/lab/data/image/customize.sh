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
# SSH: every container gets host keys of its own at first boot (the lab pins
# them in its known_hosts), so none are baked into the image; key login only.
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/systemd/system/ssh.service.d /etc/ssh/sshd_config.d
cat > /etc/systemd/system/ssh.service.d/edgeops-hostkeys.conf <<'UNIT'
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t
UNIT
cat > /etc/ssh/sshd_config.d/edgeops-lab.conf <<'SSHD'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
SSHD
systemctl enable ssh.service >/dev/null 2>&1 || true
# Keep the image small.
apt-get clean
rm -rf /var/cache/apt/*.bin /usr/share/doc/* /usr/share/man/*
