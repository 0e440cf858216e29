"""Joining a Ray cluster: the optional dependency, the forms of an address, and what the cluster has."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from rag.errors import RagError

EXTRA = "pip install 'transcript-rag[ray]'"
LOCAL = "local"  # a Ray started inside this process (one machine)
AUTO = "auto"  # the cluster this machine belongs to (ray start ran here)
PROBE_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Cluster:
    """The cluster a command runs on: its address as given, and the resources Ray reports."""

    address: str
    cpus: int
    gpus: int
    nodes: int


def require_ray() -> ModuleType:
    """The ray module, or a RagError naming the extra to install."""
    try:
        import ray
        import ray.data  # the pipelines need Ray Data, part of the same extra
    except ImportError:
        raise RagError(f"running on Ray needs the ray extra: {EXTRA}", field="ray") from None
    return ray


def connect(address: str, *, cpus: int | None = None) -> Cluster:
    """Join the cluster at `address`: `auto` (the one this machine belongs to), `local` (start one in this
    process, with `cpus` CPUs or all of them), or a head's address (host:6379, ray://host:10001).

    A process already connected (a test, a notebook) keeps its connection. On an existing cluster this
    package's code is shipped to the workers with the job, so that they run the driver's version of it;
    its dependencies must be installed on every node (the ray extra's image, or a runtime environment).
    """
    ray = require_ray()
    address = address.strip()
    if not address:
        raise RagError("--ray needs an address: auto, local, or the head's host:port", field="ray")
    quiet()
    if not ray.is_initialized():
        options: dict = {"include_dashboard": False, "logging_level": logging.WARNING}
        try:
            if address == LOCAL:
                ray.init(num_cpus=cpus, **options)
            else:
                if address != AUTO:
                    probe(address)  # Ray itself waits for an absent head without end
                code = str(Path(__file__).resolve().parent.parent)  # the rag package
                ray.init(address=address, runtime_env={"py_modules": [code]}, **options)
        except (ConnectionError, ValueError, RuntimeError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise RagError(f"cannot join the Ray cluster at {address!r}: {reason}", field="ray") from None
    resources = ray.cluster_resources()
    nodes = sum(1 for node in ray.nodes() if node.get("Alive"))
    return Cluster(address, int(resources.get("CPU", 0)), int(resources.get("GPU", 0)), nodes)


def probe(address: str) -> None:
    """A RagError unless something listens at the head's host:port (ray://host:port for Ray Client)."""
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise RagError(f"--ray {address!r}: give auto, local, or the head's host:port", field="ray")
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_TIMEOUT_S).close()
    except OSError as exc:
        raise RagError(
            f"cannot join the Ray cluster at {address!r}: nothing answers at {host}:{port} ({exc.strerror or exc})",
            field="ray",
        ) from None


def quiet() -> None:
    """Ray Data's own progress bars and start-up lines off: the command shows its own progress."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    # documents travel between stages as Python objects (Ray serialises them): said once here, not per column
    context.enable_fallback_to_arrow_object_ext_type = True
    for name in ("ray.data", "ray.serve"):
        logging.getLogger(name).setLevel(logging.WARNING)


def failure_reason(exc: BaseException) -> str:
    """What went wrong at the bottom of a chain of Ray's wrapping exceptions, in one line."""
    root = exc
    while root.__cause__ is not None and root.__cause__ is not root:
        root = root.__cause__
    lines = [line for line in str(root).strip().splitlines() if line.strip() and not line.startswith("\x1b")]
    return f"{type(root).__name__}: {lines[-1] if lines else ''}".rstrip(": ")
