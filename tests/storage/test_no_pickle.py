"""Persistence never unpickles: no file the index writes is a pickle, and no code path loads one."""

from __future__ import annotations

import ast
import json
import pickletools
import sqlite3
from pathlib import Path

import faiss
import numpy as np

from rag.ingest import ingest_paths
from tests.conftest import EXAMPLES, ROOT, SEED, SEED_ID

PICKLING_MODULES = {"pickle", "cPickle", "_pickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
UNSAFE_KEYWORDS = {"allow_pickle", "allow_dangerous_deserialization", "trust_remote_code"}


def is_pickle(data: bytes) -> bool:
    """Whether the bytes parse as a pickle stream to their end; parsed, never executed."""
    if not data:
        return False
    try:
        ops = list(pickletools.genops(data))
    except Exception:
        return False
    return bool(ops) and ops[-1][0].name == "STOP" and ops[-1][2] == len(data) - 1


def read_safely(path: Path) -> str:
    """Read a file written by the index with a loader that cannot execute code; names its kind."""
    data = path.read_bytes()
    if path.name in ("write.lock", "compact.lock"):
        return "lock"
    if data.startswith(b"SQLite format 3\x00") or path.name.endswith(("-wal", "-shm")):
        return "sqlite"
    if path.suffix == ".npy":
        array = np.load(path, allow_pickle=False)
        assert array.dtype != object
        return "npy"
    if path.suffix == ".json":
        json.loads(data)
        return "json"
    if path.suffix == ".faiss":
        faiss.read_index(str(path))
        return "faiss"
    raise AssertionError(f"{path.name}: a file of unknown kind")


def test_no_file_the_index_writes_is_a_pickle(tmp_path, indexed):
    directory = tmp_path / "index"
    index = indexed(EXAMPLES)
    index.delete(SEED_ID)
    ingest_paths(index, [SEED])
    index.collection.compact()  # the base files are written too
    index.close()
    kinds = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        assert not is_pickle(path.read_bytes()), f"{path.relative_to(directory)} is a pickle"
        kinds[path.relative_to(directory).as_posix()] = read_safely(path)
    assert {"json", "npy", "faiss", "sqlite"} <= set(kinds.values()), kinds
    db = sqlite3.connect(directory / "passages.sqlite")
    blobs = [row[0] for row in db.execute("SELECT vector FROM segments")]
    db.close()
    assert blobs and not any(is_pickle(blob) for blob in blobs)


def test_the_pickle_detector_recognises_a_pickle():
    import pickle  # only to make one; it is never loaded

    assert is_pickle(pickle.dumps({"ids": [1, 2, 3]}))
    assert not is_pickle(b'{"ids": [1, 2, 3]}')


def test_no_code_of_the_service_imports_a_pickling_module_or_asks_for_unsafe_loading():
    offences = []
    for path in sorted([*(ROOT / "rag").rglob("*.py"), *(ROOT / "api").rglob("*.py")]):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', '?')}"
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names if a.name.split(".")[0] in PICKLING_MODULES]
                offences += [f"{where} imports {name}" for name in names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLING_MODULES:
                offences.append(f"{where} imports from {node.module}")
            elif isinstance(node, ast.keyword) and node.arg in UNSAFE_KEYWORDS:
                if not (isinstance(node.value, ast.Constant) and node.value.value is False):
                    offences.append(f"{where} passes {node.arg}={ast.unparse(node.value)}")
            elif isinstance(node, ast.Attribute) and node.attr == "load" and ast.unparse(node.value) == "torch":
                offences.append(f"{where} calls torch.load")
    assert offences == []

