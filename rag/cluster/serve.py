"""rag serve --ray: the HTTP API (`api.main.create_app`) as a Ray Serve deployment of N replicas.

Each replica is a whole service, as a worker of `rag serve --workers` is: its own model, its own pool of
connections to the collection's PostgreSQL database, which every replica reads and writes, so a document
written through one replica is found by the next search on any. Ray Serve's proxy spreads requests over
the replicas, replaces one that dies, and with autoscaling bounds adds or removes replicas with the load.
The app is built inside each replica, by name (the rag package never imports the api package).
"""

from __future__ import annotations

import importlib
import signal
import threading
from dataclasses import dataclass

from rag.cluster.runtime import require_ray
from rag.config import Settings
from rag.errors import RagError

APP_NAME = "transcript-search"
REPLICA_CPUS = 1  # what Ray reserves for a replica (its questions run one thread each, see rag.threads)


@dataclass(frozen=True)
class Replicas:
    """How many replicas: `count`, or between `low` and `high` by load when autoscaling bounds are given."""

    count: int
    low: int | None = None
    high: int | None = None
    requests_per_replica: int = 8  # ongoing requests a replica is meant to hold when autoscaling

    def options(self) -> dict:
        if self.low is None or self.high is None:
            return {"num_replicas": self.count}
        if not 0 < self.low <= self.high:
            raise RagError(f"replicas between {self.low} and {self.high}: give 1 <= min <= max", field="replicas")
        return {
            "autoscaling_config": {
                "min_replicas": self.low,
                "initial_replicas": min(max(self.count, self.low), self.high),
                "max_replicas": self.high,
                "target_ongoing_requests": self.requests_per_replica,
            }
        }


def check_shared(settings: Settings) -> None:
    """Replicas on several machines need one collection they all reach: a database, not a directory."""
    if settings.database_url is None:
        raise RagError(
            "rag serve --ray needs the collection in PostgreSQL (--database-url or RAG_DATABASE_URL): replicas of"
            " an index directory on several machines would each hold their own copy and drift apart",
            field="database_url",
        )


class TranscriptSearch:
    """The deployment's class: each replica builds the service from the settings, as `rag serve` does."""

    def __init__(self, settings: Settings):
        self.settings = settings

    def __serve_build_asgi_app__(self):
        # Ray Serve calls this once in each replica; Ray has set the replica's OMP_NUM_THREADS to its CPUs
        return importlib.import_module("api.main").create_app(self.settings)


def deployment(settings: Settings, replicas: Replicas):
    """The bound Ray Serve application of the service."""
    require_ray()
    from ray import serve

    ingress = serve.ingress()(TranscriptSearch)
    options = {
        "name": "api",
        "ray_actor_options": {"num_cpus": REPLICA_CPUS},
        "health_check_period_s": 5,
        **replicas.options(),
    }
    return serve.deployment(ingress, **options).bind(settings)


def serve_on_ray(settings: Settings, replicas: Replicas, host: str, port: int, *, block: bool = True) -> None:
    """Start the replicas behind Ray Serve's proxy at host:port; with `block`, until SIGINT or SIGTERM."""
    check_shared(settings)
    require_ray()
    from ray import serve

    serve.start(http_options={"host": host, "port": port})
    serve.run(deployment(settings, replicas), name=APP_NAME, route_prefix="/")
    if not block:
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"serving http://{host}:{port} from Ray Serve ({replicas.options()})", flush=True)
    stop.wait()
    serve.delete(APP_NAME)
