"""Scaling out on Ray: ingest and reindex embed across a cluster (Ray Data), rag serve runs replicas (Ray Serve).

Ray is an optional dependency (the `ray` extra); nothing here imports it until a command asks for a cluster.
"""

from rag.cluster.runtime import Cluster, connect, require_ray

__all__ = ["Cluster", "connect", "require_ray"]
