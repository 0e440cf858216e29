"""Managing documents over HTTP: add, replace, show, list and delete, with limits and clear errors."""

from __future__ import annotations

import itertools
import json

import httpx
import pytest

from rag.parsing import read_transcript
from tests.conftest import EXAMPLES, LiveServer, assert_error

KEY = "documents-test-key"
LIMITS = {"max_turns": 20, "max_text_chars": 3000, "max_upload_bytes": 30_000, "max_body_bytes": 60_000}


def transcript(title: str = "Ferry briefing", *, words: str = "ferries", **extra) -> dict:
    return {
        "title": title,
        "date": "2026-05-04",
        "turns": [
            {"speaker": "Reporter", "text": f"Will the {words} run on Sunday?", "start": 0.0, "end": 4.0},
            {"speaker": "Mia Stone", "text": f"The {words} will run on Sunday, on the summer timetable."},
        ],
        **extra,
    }


@pytest.fixture(scope="module")
def server(new_place, embedder):
    """A server over an index that does not exist yet: the first write creates it."""
    place = new_place("documents-api")
    settings = place.settings(api_keys=KEY, **LIMITS)
    with LiveServer(settings, embedder=embedder) as live:
        live.root = place.directory.parent
        yield live


@pytest.fixture(scope="module")
def api(server):
    with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


def ids(api, **params) -> list[str]:
    return [d["id"] for d in api.get("/documents", params=params).json()]


def search_documents(api, query: str) -> set[str]:
    results = api.post("/search", json={"query": query, "k": 20, "mode": "lexical"}).json()["results"]
    return {r["document"]["id"] for r in results}


# ---------------------------------------------------------------------- adding


def test_posting_a_json_transcript_creates_it_and_search_finds_its_speaker(api):
    response = api.post("/documents", json=transcript(id="ferry-briefing", words="catamarans"))
    assert response.status_code == 201, response.text
    assert response.json() == {
        "id": "ferry-briefing",
        "title": "Ferry briefing",
        "date": "2026-05-04",
        "turns": 2,
        "passages": 2,
        "status": "created",
    }
    assert response.headers["location"] == "/documents/ferry-briefing"
    hits = api.post("/search", json={"query": "catamarans Sunday", "k": 1}).json()["results"]
    assert (hits[0]["document"]["id"], hits[0]["speaker"]) == ("ferry-briefing", "Mia Stone")


def test_posting_the_same_content_again_writes_nothing_and_answers_200(api):
    body = transcript(id="same-again", words="hovercraft")
    assert api.post("/documents", json=body).status_code == 201
    again = api.post("/documents", json=body)
    assert again.status_code == 200
    assert again.json()["status"] == "unchanged"


def test_new_content_under_an_existing_id_replaces_the_document(api):
    api.post("/documents", json=transcript(id="replaced", words="gondolas"))
    response = api.post("/documents", json=transcript(id="replaced", words="funiculars"))
    assert (response.status_code, response.json()["status"]) == (201, "replaced")
    assert "replaced" in search_documents(api, "funiculars")
    assert "replaced" not in search_documents(api, "gondolas")
    assert ids(api).count("replaced") == 1


def test_a_transcript_sent_without_an_id_gets_the_same_content_derived_id_each_time(api):
    first = api.post("/documents", json=transcript("No id", words="zeppelins")).json()
    second = api.post("/documents", json=transcript("No id", words="zeppelins")).json()
    assert first["id"] == second["id"] and first["id"].startswith("doc-")
    assert second["status"] == "unchanged"


@pytest.mark.parametrize("name", ["transport_briefing.txt", "energy_minister_interview.json"])
def test_an_uploaded_file_is_parsed_as_the_cli_parses_it_and_named_after_its_file(api, name):
    response = api.post("/documents", files={"file": (name, (EXAMPLES / name).read_bytes())})
    assert response.status_code in (200, 201), response.text
    expected = read_transcript(EXAMPLES / name)
    assert response.json()["id"] == name.rsplit(".", 1)[0]
    assert (response.json()["title"], response.json()["turns"]) == (expected.title, len(expected.turns))


def test_an_upload_without_a_known_extension_is_detected_from_its_content(api):
    content = json.dumps(transcript("Detected", words="monorails")).encode()
    response = api.post("/documents", files={"file": ("detected", content)})
    assert (response.status_code, response.json()["id"]) == (201, "detected")


def test_put_stores_under_the_path_id_whatever_the_body_says(api):
    response = api.put("/documents/put-target", json=transcript(id="body-id", words="trams"))
    assert (response.status_code, response.json()["id"], response.json()["status"]) == (201, "put-target", "created")
    assert "body-id" not in ids(api)
    again = api.put("/documents/put-target", json=transcript(words="trolleybuses"))
    assert again.json()["status"] == "replaced"


def test_put_accepts_an_upload_too(api):
    content = (EXAMPLES / "transport_briefing.txt").read_bytes()
    response = api.put("/documents/briefing-copy", files={"file": ("anything.txt", content)})
    assert (response.status_code, response.json()["id"]) == (201, "briefing-copy")


# ---------------------------------------------------------------------- reading back


def test_a_document_is_shown_with_its_metadata_and_turns(api):
    api.post("/documents", json=transcript(id="shown", words="cable cars", place="Northbridge"))
    body = api.get("/documents/shown").json()
    assert (body["id"], body["title"], body["date"], body["place"]) == (
        "shown",
        "Ferry briefing",
        "2026-05-04",
        "Northbridge",
    )
    first = body["turns"][0]
    assert {key: value for key, value in first.items() if key != "passages"} == {
        "speaker": "Reporter",
        "role": "question",
        "text": "Will the cable cars run on Sunday?",
        "start": 0.0,
        "end": 4.0,
    }
    assert [(p["start_char"], p["end_char"], p["start"], p["end"]) for p in first["passages"]] == [(0, 34, 0.0, 4.0)]
    assert body["turns"][1]["role"] == "answer" and body["passages"] == 2
    assert body["media_url"] is None


def test_every_search_hit_can_be_placed_in_its_document_by_its_passage_ids(http):
    """A page showing a transcript finds each hit's passages in the document: same turn, same offsets, same words."""
    hits = http.post("/search", json={"query": "phone call between Putin and Trump", "k": 10}).json()["results"]
    documents = {}
    for hit in hits:
        doc_id = hit["document"]["id"]
        turns = documents.setdefault(doc_id, http.get(f"/documents/{doc_id}").json()["turns"])
        for part in hit["parts"]:
            turn = turns[part["turn_index"]]
            (placed,) = [p for p in turn["passages"] if p["id"] == part["passage_id"]]
            assert (placed["start_char"], placed["end_char"]) == (part["start_char"], part["end_char"])
            assert turn["text"][placed["start_char"] : placed["end_char"]] == part["text"]


def test_a_turns_passages_are_listed_in_order_and_leave_out_only_white_space(http):
    for turn in http.get("/documents/000_8fcf709333f4d63f").json()["turns"]:
        text, spans = turn["text"], [(p["start_char"], p["end_char"]) for p in turn["passages"]]
        assert spans == sorted(spans) and spans[0][0] == 0 and spans[-1][1] == len(text)
        gaps = [text[end:start] for (_, end), (start, _) in itertools.pairwise(spans) if start > end]
        assert all(not gap.strip() for gap in gaps), gaps


def test_a_media_url_is_kept_and_given_with_the_document_and_its_search_hits(api):
    url = "https://media.example.org/hovercraft-briefing.mp3"
    api.post("/documents", json=transcript(id="recorded", words="airships", media_url=url))
    assert api.get("/documents/recorded").json()["media_url"] == url
    hits = api.post("/search", json={"query": "airships on Sunday", "k": 3}).json()["results"]
    assert hits[0]["document"]["id"] == "recorded" and hits[0]["document"]["media_url"] == url


@pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/html,hi", "ftp://example.org/a.mp3", "https://"])
def test_a_media_url_that_is_not_an_http_url_is_a_422(api, url):
    assert_error(api.post("/documents", json=transcript(id="bad-media", media_url=url)), 422, "media_url")


def test_an_unknown_document_is_a_404_naming_the_id(api):
    assert_error(api.get("/documents/no-such-document"), 404, "id")


def test_documents_are_listed_a_page_at_a_time_with_the_total_in_a_header(api):
    for n in range(3):
        api.post("/documents", json=transcript(f"Paged {n}", id=f"paged-{n}", words=f"paging{n}"))
    everything = api.get("/documents", params={"limit": 1000})
    total = int(everything.headers["x-total-count"])
    assert total == len(everything.json()) >= 3
    page = api.get("/documents", params={"offset": 1, "limit": 2})
    assert [d["id"] for d in page.json()] == [d["id"] for d in everything.json()][1:3]
    assert int(page.headers["x-total-count"]) == total


def test_documents_are_filtered_by_date_range_and_speaker(api):
    api.post("/documents", json=transcript(id="dated-2024", date="2024-02-02", words="barges"))
    api.post("/documents", json=transcript(id="dated-2027", date="2027-07-07", words="rafts"))
    assert "dated-2024" in ids(api, date_to="2024-12-31")
    assert "dated-2027" not in ids(api, date_to="2024-12-31")
    assert ids(api, date_from="2027-01-01", date_to="2027-12-31") == ["dated-2027"]
    by_speaker = ids(api, speaker="Mia Stone", limit=1000)
    assert {"dated-2024", "dated-2027"} <= set(by_speaker)
    assert "transport_briefing" not in by_speaker
    assert ids(api, speaker="Nobody At All") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "-5.9e-08"}, "date_from"),
        ({"date_to": "0"}, "date_to"),
        ({"date_from": "2025-02-30"}, "date_from"),
        ({"offset": -1}, "offset"),
        ({"offset": 10**20}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"speaker": ["Anna", "Ben\u0000"]}, "speaker.1"),
    ],
)
def test_bad_listing_parameters_are_a_422_naming_the_parameter(api, params, field):
    assert_error(api.get("/documents", params=params), 422, field)


# ---------------------------------------------------------------------- deleting


def test_a_deleted_document_is_gone_from_listing_showing_and_search(api):
    api.post("/documents", json=transcript(id="doomed", words="dirigibles"))
    assert "doomed" in search_documents(api, "dirigibles")
    response = api.delete("/documents/doomed")
    assert (response.status_code, response.content) == (204, b"")
    assert "doomed" not in ids(api, limit=1000)
    assert "doomed" not in search_documents(api, "dirigibles")
    assert_error(api.get("/documents/doomed"), 404, "id")


def test_deleting_an_unknown_document_is_a_404(api):
    assert_error(api.delete("/documents/never-was"), 404, "id")


# ---------------------------------------------------------------------- bad input


def _turns(n: int) -> list[dict]:
    return [{"speaker": f"S{i % 2}", "text": f"Point {i}."} for i in range(n)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"turns": [{"speaker": "A", "text": "x"}]}, "title"),
        ({"title": "t", "turns": []}, "turns"),
        ({"title": "t"}, "turns"),
        ({"title": "t", "turns": [{"speaker": "A"}]}, "turns.0.text"),
        ({"title": "t", "turns": [{"speaker": 7, "text": "x"}]}, "turns.0.speaker"),
        ({"title": "t", "turns": [{"text": "x", "start": -1}]}, "turns.0.start"),
        ({"title": "t", "turns": [{"text": "x", "start": 5, "end": 2}]}, "turns.0.end"),
        ({"title": "t", "turns": [{"text": "fine"}, {"text": "  "}]}, "turns.1.text"),
        ({"title": "  ", "turns": [{"text": "x"}]}, "title"),
        ({"title": "t", "date": "04/05/2026", "turns": [{"text": "x"}]}, "date"),
        ({"title": "t", "colour": "red", "turns": [{"text": "x"}]}, "colour"),
        ({"title": "t", "id": "../../etc/passwd", "turns": [{"text": "x"}]}, "id"),
        ({"title": "t", "id": "", "turns": [{"text": "x"}]}, "id"),
        ({"title": "t", "turns": _turns(LIMITS["max_turns"] + 1)}, "turns"),
        ({"title": "t", "turns": [{"text": "x"}, {"text": "y" * (LIMITS["max_text_chars"] + 1)}]}, "turns.1.text"),
        ({"title": "\ud800", "turns": [{"text": "x"}]}, "title"),
        ({"title": "t", "turns": [{"speaker": "A", "text": "x\u0000y"}]}, "turns.0.text"),
        ({"title": "t\u0000", "turns": [{"text": "x"}]}, "title"),
        (["not", "an", "object"], "body"),
    ],
)
def test_a_bad_json_transcript_is_a_422_naming_the_field(api, body, field):
    response = api.post("/documents", content=json.dumps(body), headers={"content-type": "application/json"})
    assert_error(response, 422, field)


def test_a_refused_replacement_leaves_the_document_as_it_was(api):
    api.put("/documents/kept", json=transcript(id="kept", words="rickshaws"))
    before = api.get("/documents/kept").json()
    broken = transcript(words="sampans", turns=[{"speaker": "A", "text": "x", "start": 9, "end": 1}])
    assert_error(api.put("/documents/kept", json=broken), 422, "turns.0.end")
    assert_error(api.put("/documents/kept", files={"file": ("kept.json", b"{")}), 422, "file")
    assert api.get("/documents/kept").json() == before
    assert "kept" in search_documents(api, "rickshaws")


def test_malformed_json_is_a_400(api):
    response = api.post("/documents", content=b'{"title": ', headers={"content-type": "application/json"})
    assert_error(response, 400, "body")


def test_a_body_that_is_neither_json_nor_a_file_upload_is_a_415(api):
    response = api.post("/documents", content=b"Q: hi", headers={"content-type": "text/plain"})
    assert_error(response, 415, "body")


def test_a_put_to_an_id_that_could_not_be_a_document_id_is_a_422(api):
    assert_error(api.put("/documents/..hidden", json=transcript()), 422, "id")


@pytest.mark.parametrize(
    ("files", "status", "field", "words"),
    [
        ({"file": ("broken.json", b'{"title": "x",\n "turns": [')}, 422, "file", "broken.json:2"),
        ({"file": ("latin1.txt", "Title\n\nA: caf\u00e9\n".encode("latin-1"))}, 422, "file", "latin1.txt:3: not UTF-8"),
        ({"file": ("binary.txt", b"A: hi\n\x00\x01\x02")}, 422, "file", "binary.txt:2"),
        ({"file": ("empty.txt", b"")}, 422, "file", "empty.txt"),
        (
            {"file": ("many.txt", b"".join(b"Q: why %d?\n\nA: because.\n\n" % i for i in range(30)))},
            422,
            "file",
            "turns",
        ),
        ({"file": ("long.txt", b"Title\n\nA: " + b"word " * 700)}, 422, "file", "characters"),
        ({"file": ("big.txt", b"A: " + b"x" * 40_000)}, 413, "file", "at most 30000"),
        ({"file": ("huge.txt", b"A: " + b"x" * 200_000)}, 413, "body", "larger than"),
        ({"other": ("t.txt", b"A: hi")}, 422, "file", "required"),
        ({"file": ("t.txt", b"A: hi"), "format": (None, b"docx")}, 422, "format", "one of"),
        ({"file": ("t.txt", b"A: hi"), "format": (None, b"")}, 422, "format", "one of"),
    ],
)
def test_a_bad_upload_is_refused_with_a_message_naming_the_file_and_line(api, files, status, field, words):
    body = assert_error(api.post("/documents", files=files), status, field)
    assert words in body["error"]


def test_a_json_body_over_the_body_limit_is_a_413(api):
    body = transcript(turns=[{"speaker": "A", "text": "y" * 2500}] * 25)
    assert_error(api.post("/documents", json=body), 413, "body")


# ---------------------------------------------------------------------- untrusted names and content


@pytest.mark.parametrize(
    ("filename", "expected_id"),
    [
        ("../../etc/passwd.txt", "passwd"),
        ("..\\x.json", "x"),
        ("/absolute/path/notes.txt", "notes"),
        ("....//....//deep.txt", "deep"),
        ("C:\\Windows\\system32\\drivers.txt", "drivers"),
        ("..", "upload"),
    ],
)
def test_uploaded_file_names_give_sanitised_ids_and_nothing_is_written_outside_the_index(
    server, api, filename, expected_id
):
    before = {p for p in server.root.parent.rglob("*") if "index" not in p.relative_to(server.root.parent).parts}
    content = b"Harbour notice\n\nMS. HALE: The pier reopens on Monday.\n\nMR. ORR: And the ferry?\n"
    if filename.endswith(".json"):
        content = json.dumps(transcript()).encode()
    response = api.post("/documents", files={"file": (filename, content)})
    assert response.status_code in (200, 201), response.text
    doc_id = response.json()["id"]
    assert doc_id == expected_id
    after = {p for p in server.root.parent.rglob("*") if "index" not in p.relative_to(server.root.parent).parts}
    assert after == before
    assert "/" not in doc_id and "\\" not in doc_id and not doc_id.startswith(".")
    assert api.delete(f"/documents/{doc_id}").status_code == 204


def test_html_in_a_transcript_comes_back_only_inside_json(api):
    script = "<script>alert('x')</script>"
    api.post("/documents", json=transcript(title=f"Hostile {script}", id="hostile", words=f"gliders {script}"))
    for response in (
        api.get("/documents/hostile"),
        api.get("/documents", params={"limit": 1000}),
        api.post("/search", json={"query": "gliders", "k": 3}),
    ):
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert script in json.dumps(response.json())


def test_no_endpoint_answers_html_built_from_input(api):
    schema = api.get("/openapi.json").json()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                assert "text/html" not in response.get("content", {}), (method, path, code)


@pytest.mark.parametrize("fmt", ["vtt", "srt"])
def test_an_upload_may_name_any_format_the_readers_know(api, fmt):
    cue = "1\n00:00:01,000 --> 00:00:04,000\n" if fmt == "srt" else "WEBVTT\n\n00:00:01.000 --> 00:00:04.000\n"
    body = f"{cue}<v Ines Varga>The ferries run again from July.\n"
    response = api.post("/documents", files={"file": (f"captions.{fmt}", body.encode())}, data={"format": fmt})
    assert response.status_code == 201, response.text
