"""Serve the HTTP API from several worker processes forked from `rag serve`, sharing one listening socket.

Each worker is a whole service (its own model, its own readers of the collection), so questions run on
every core instead of queueing behind one interpreter's lock. The collection is shared, not copied: the
embedded backend's base files are memory-mapped (the page cache holds them once for all workers) and
each worker follows the others' writes through the store at its next search.

Workers are forked before anything starts a thread or loads a model, so each inherits the settings as
objects, and a worker that dies is replaced. SIGTERM or SIGINT stops them all.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import uvicorn

from rag.config import Settings

log = logging.getLogger("rag.serve")
RESTART_PAUSE_S = 1.0  # between replacing workers that die at once, so a broken start does not spin


def listening_socket(host: str, port: int) -> socket.socket:
    """The socket all workers accept on; TCP_NODELAY so that small answers are not held back (Nagle)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # accepted sockets inherit it
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings, host: str, port: int, workers: int, log_config: dict) -> None:
    """Run `workers` forked workers (one: in this process) until SIGTERM or SIGINT."""
    if workers <= 1:
        uvicorn.run(_app(settings), host=host, port=port, log_config=log_config, access_log=False)
        return
    shared = Path(tempfile.mkdtemp(prefix="rag-metrics-"))
    # prometheus_client reads this when each worker imports it: counts go to files a scrape sums up
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    settings = settings.model_copy(update={"metrics_dir": shared})
    try:
        _supervise(settings, host, port, workers, log_config)
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def _supervise(settings: Settings, host: str, port: int, workers: int, log_config: dict) -> None:
    sock = listening_socket(host, port)
    children: set[int] = set()
    stopping = False

    def stop(signum: int, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            _signal(pid, signal.SIGTERM)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for _ in range(workers):
        children.add(_fork(lambda: _worker(settings, sock, log_config)))
    print(f"serving http://{host}:{port} from {workers} workers: {sorted(children)}", flush=True)
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        _forget_metrics(settings, pid)
        if not stopping:
            log.error("worker %d ended (%s): starting another", pid, _exit_reason(status))
            time.sleep(RESTART_PAUSE_S)
            children.add(_fork(lambda: _worker(settings, sock, log_config)))
    sock.close()


def _app(settings: Settings):
    # by name: the rag package never imports the api package (api imports rag)
    return importlib.import_module("api.main").create_app(settings)


def _worker(settings: Settings, sock: socket.socket, log_config: dict) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    config = uvicorn.Config(_app(settings), log_config=log_config, access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


def _fork(target: Callable[[], None]) -> int:
    pid = os.fork()
    if pid:
        return pid
    code = 0
    try:
        target()
    except BaseException:
        log.exception("worker %d failed", os.getpid())
        code = 1
    finally:
        os._exit(code)  # never run the parent's exit handlers in a child


def _forget_metrics(settings: Settings, pid: int) -> None:
    """A dead worker's live gauges are dropped; its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, str(settings.metrics_dir))


def _signal(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # already gone
        os.kill(pid, signum)


def _exit_reason(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"
