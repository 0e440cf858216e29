"""Debian's Chromium through Playwright, and a real `rag serve` over the bundled examples, for the page's figures."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from bench.query import PY, ROOT, free_port

CHROMIUM = Path("/usr/bin/chromium")
# the network is closed here: without these flags Chromium keeps trying to reach Google's services
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium from Debian's package (Playwright downloads no browser here)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def examples_server(env: dict[str, str] | None = None, ready_within: float = 300) -> Iterator[str]:
    """`rag serve` as people run it, on an index built from examples/ in a temporary folder; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="rag-web-") as tmp:
        port = free_port()
        command = [PY, "-m", "rag.cli", "serve", "--index", f"{tmp}/index", "--port", str(port)]
        command += ["--build-from", str(ROOT / "examples")]
        log = open(Path(tmp) / "server.log", "wb")  # noqa: SIM115 - closed below, after the process
        process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(url, process, ready_within)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=30)
            log.close()


def _wait_ready(url: str, process: subprocess.Popen, limit: float) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rag serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"rag serve was not ready within {limit:g} s")
