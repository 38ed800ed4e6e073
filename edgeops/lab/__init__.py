"""The local lab: the reference topology as podman containers with systemd."""
