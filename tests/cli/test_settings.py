"""Settings: the one reader of the environment, and a bad value named in one line."""

from __future__ import annotations

import ast

from typer.testing import CliRunner

from rag.cli import app
from tests.conftest import ROOT


def test_no_module_but_settings_reads_the_environment():
    readers = []
    for path in sorted([*(ROOT / "rag").rglob("*.py"), *(ROOT / "api").rglob("*.py")]):
        if path == ROOT / "rag" / "config.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            code = ast.unparse(node) if isinstance(node, (ast.Call, ast.Subscript)) else ""
            reading = code.startswith(("os.environ.get(", "os.getenv(", "os.environ["))
            if reading and not (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Store)):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}: {code}")
    assert readers == []


def test_a_setting_that_cannot_be_used_stops_a_command_with_its_name():
    result = CliRunner().invoke(app, ["stats"], env={"RAG_EMBED_BACKEND": "tensorflow"})
    assert result.exit_code == 1
    assert "RAG_EMBED_BACKEND" in result.output and "Traceback" not in result.output
