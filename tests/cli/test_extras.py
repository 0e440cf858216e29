"""Optional parts (extras) that are not installed: the command that needs one names it, and nothing else breaks."""

from __future__ import annotations

from tests.conftest import EXAMPLES, ROOT, rag_process

FORMATS = ROOT / "tests" / "fixtures" / "formats"


def test_rag_mcp_without_the_mcp_extra_says_which_extra_to_install(tmp_path):
    result = rag_process("mcp", "--index", str(tmp_path / "index"), without=("mcp",))
    assert result.returncode == 1
    assert "rag mcp needs the mcp extra: pip install 'transcript-rag[mcp]'" in result.stderr


def test_an_html_page_without_the_html_extra_is_a_failure_naming_it_and_the_rest_is_indexed(tmp_path):
    result = rag_process(
        "ingest",
        str(FORMATS / "ministry_page.html"),
        str(EXAMPLES / "energy_minister_interview.json"),
        "--index",
        str(tmp_path / "index"),
        without=("trafilatura",),
    )
    output = " ".join((result.stdout + result.stderr).split())
    assert "reading HTML pages needs the html extra: pip install 'transcript-rag[html]'" in output
    assert "indexed 1 documents" in output
