"""Optional parts (extras) that are not installed: the command that needs one names it, and nothing else breaks."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import EXAMPLES, ROOT

FORMATS = ROOT / "tests" / "fixtures" / "formats"


def rag_without(module: str, *args: str) -> subprocess.CompletedProcess:
    """`rag ARGS` in a fresh process in which `module` cannot be imported, as if its extra were not installed."""
    code = f"import sys; sys.modules[{module!r}] = None; "
    code += "from rag.cli import main; sys.argv = ['rag', *sys.argv[1:]]; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_rag_mcp_without_the_mcp_extra_says_which_extra_to_install(tmp_path):
    result = rag_without("mcp", "mcp", "--index", str(tmp_path / "index"))
    assert result.returncode == 1
    assert "rag mcp needs the mcp extra: pip install 'transcript-rag[mcp]'" in result.stderr


def test_an_html_page_without_the_html_extra_is_a_failure_naming_it_and_the_rest_is_indexed(tmp_path):
    result = rag_without(
        "trafilatura",
        "ingest",
        str(FORMATS / "ministry_page.html"),
        str(EXAMPLES / "energy_minister_interview.json"),
        "--index",
        str(tmp_path / "index"),
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert "reading HTML pages needs the html extra: pip install 'transcript-rag[html]'" in output
    assert "indexed 1 documents" in output
