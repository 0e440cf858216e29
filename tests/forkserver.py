"""A process that has imported the `rag` command and its model libraries once, and forks one child per run.

Killing `rag ingest` twenty times would otherwise pay the import of torch and sentence-transformers
twenty times. Each child runs the real command line (`rag.cli.app`) as a fresh process would, loads
the model itself, and can be killed with SIGKILL like any other process.

Protocol, one JSON object per line on stdin, one answer per line on stdout:
  {"run": ["ingest", ...], "output": PATH}  ->  {"pid": PID}      (the child's stdout and stderr go to PATH)
  {"reap": PID}                             ->  {"status": CODE}  (waits for it; -9 when killed by SIGKILL)
"""

from __future__ import annotations

import json
import os
import sys

# Imported here, before any fork, and never used here: no thread pool is started in this process,
# so each child starts from a clean state (forking after torch has run work can hang the child).
import sentence_transformers  # noqa: F401
import transformers  # noqa: F401

import rag.cli
import rag.ingest
import rag.storage.embedded.integrity


def run_child(args: list[str], output: str) -> None:
    """In the forked child: run the command line, then leave without the parent's exit handlers."""
    code = 1
    try:
        fd = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.argv = ["rag", *args]
        try:
            rag.cli.app(args, prog_name="rag")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        if "run" in request:
            pid = os.fork()
            if pid == 0:
                run_child(request["run"], request["output"])
            answer = {"pid": pid}
        else:
            _, status = os.waitpid(request["reap"], 0)
            answer = {"status": os.waitstatus_to_exitcode(status)}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
