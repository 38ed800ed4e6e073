"""edgeops: GitOps for Kubernetes nodes and MySQL hosts, on ansible-runner."""

__version__ = "0.1.0"
