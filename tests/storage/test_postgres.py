"""The PostgreSQL backend itself: migrations, the HNSW index, rare filters, concurrent writers, check and repair."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import numpy as np
import psycopg
import pytest
from pydantic import SecretStr

from rag.index import Index, check_collection, repair_collection
from rag.models import Filters
from rag.search import search
from rag.storage import Manifest
from rag.storage import postgres as pg
from rag.storage.postgres import DatabaseOptions, schema
from rag.storage.postgres.collection import PostgresCollection
from tests.conftest import ROOT
from tests.storage.pg_documents import DIMENSION, ROUNDS, SHARED, document, unit

pytestmark = pytest.mark.postgres
MANIFEST = Manifest(model="all-MiniLM-L6-v2", dimension=DIMENSION)


@pytest.fixture
def database(pg_server) -> DatabaseOptions:
    return DatabaseOptions(SecretStr(pg_server.new_database()))


def raw(options: DatabaseOptions) -> psycopg.Connection:
    """A plain connection to look at, or damage, what the backend wrote (autocommit, in its schema)."""
    conn = psycopg.connect(options.url.get_secret_value(), autocommit=True)
    conn.execute(f"SET search_path = {schema.SCHEMA}, public")
    return conn


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """n unit vectors around 50 centres, as texts on a few subjects are."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, DIMENSION))
    return unit(centres[rng.integers(0, 50, n)] + 0.6 * rng.normal(size=(n, DIMENSION)))


@pytest.fixture(scope="module")
def large(pg_server, embedder):
    """3,000 segments in 100 documents, searched through the HNSW index (no exact search below any size);
    the speaker "Rare Voice" holds 12 passages among them."""
    options = DatabaseOptions(SecretStr(pg_server.new_database()))
    collection = PostgresCollection.open(options, create=MANIFEST, exact_max=0, exact_filtered_max=0)
    vectors = clustered(3000)
    docs = []
    for d in range(100):
        speakers = [f"Speaker {(d + i) % 7}" for i in range(30)]
        if d % 8 == 0 and d < 96:
            speakers[d % 30] = "Rare Voice"
        date = f"2025-{1 + d % 12:02d}-{1 + d // 12:02d}"  # over 2025: doc-95 alone in December after the 7th
        docs.append(document(f"doc-{d}", speakers, vectors[30 * d : 30 * d + 30], date=date))
    collection.apply(add=docs)
    with raw(options) as conn:
        conn.execute("VACUUM ANALYZE")
    return Index(collection, embedder), vectors


# ---------------------------------------------------------------------- migrations


def test_migrations_are_applied_once_and_opening_again_applies_none(database):
    collection = PostgresCollection.open(database, create=MANIFEST)
    assert collection.describe()["schema_version"] == schema.VERSION
    collection.close()
    applied_now, history = pg.upgrade(database)
    assert applied_now == []
    assert [version for version, _, _ in history] == sorted(schema.MIGRATIONS)


def test_servers_starting_at_once_apply_each_migration_once(database):
    applied: list[list[int]] = []
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            applied.append(pg.upgrade(database)[0])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(v for versions in applied for v in versions) == sorted(schema.MIGRATIONS)


def test_a_database_of_a_newer_schema_is_refused_with_a_clear_error(database):
    pg.upgrade(database)
    with raw(database) as conn:
        conn.execute("INSERT INTO migrations (version, name) VALUES (%s, 'from the future')", (schema.VERSION + 1,))
    with pytest.raises(Exception, match=f"schema version {schema.VERSION + 1}, this program knows up to"):
        PostgresCollection.open(database)


# ---------------------------------------------------------------------- search


def test_hnsw_finds_nearly_all_of_the_exact_top_ten(large):
    index, vectors = large
    rng = np.random.default_rng(1)
    questions = unit(vectors[rng.integers(0, len(vectors), 50)] + 0.5 * rng.normal(size=(50, DIMENSION)))
    with index.reading() as reader:
        ids = np.array([i for d in range(100) for i in reader.segment_ids_of(f"doc-{d}")])
        recalls = []
        for question in questions:
            exact = set(ids[np.argsort(-(vectors @ question), kind="stable")[:10]].tolist())
            found = {sid for sid, _ in reader.dense(question, 10, Filters())}
            recalls.append(len(found & exact) / 10)
    assert np.mean(recalls) >= 0.98  # near-random vectors, a hard case for HNSW (real questions: docs/storage.md)


@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_a_rare_speaker_filter_returns_k_results_of_that_speaker(large, mode):
    index, _ = large
    hits = search(index, "harbour dredging", k=10, filters=Filters(speakers=("Rare Voice",)), mode=mode).hits
    assert len(hits) == 10 and {h.speaker for h in hits} == {"Rare Voice"}


def test_a_date_filter_admitting_one_document_returns_k_results_of_it(large):
    index, _ = large
    filters = Filters(date_from="2025-12-08", date_to="2025-12-31")
    hits = search(index, "harbour dredging", k=10, filters=filters, mode="dense").hits
    assert len(hits) == 10 and {h.document.id for h in hits} == {"doc-95"}


def test_a_document_filter_returns_k_results_of_that_document(large):
    index, _ = large
    hits = search(index, "harbour dredging", k=10, filters=Filters(document_ids=("doc-42",)), mode="dense").hits
    assert len(hits) == 10 and {h.document.id for h in hits} == {"doc-42"}


# ---------------------------------------------------------------------- writers


def test_two_processes_writing_the_same_and_different_ids_lose_and_duplicate_nothing(database):
    PostgresCollection.open(database, create=MANIFEST).close()
    start_at = time.time() + 3  # both writers start together, once their imports are done
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    url = database.url.get_secret_value()
    writers = [
        subprocess.Popen([sys.executable, "-m", "tests.storage.pg_documents", url, name, str(start_at)], env=env)
        for name in ("a", "b")
    ]
    assert [w.wait(timeout=300) for w in writers] == [0, 0]
    expected = set(SHARED) | {f"{name}-{r}-{n}" for name in "ab" for r in range(ROUNDS) for n in range(len(SHARED))}
    collection = PostgresCollection.open(database)
    with collection.reading() as reader:
        listed = [d.id for d in reader.documents()]
        counts = reader.counts()
        passages = sum(d.passages for d in reader.documents())
    collection.close()
    assert sorted(listed) == sorted(expected)  # each once
    assert counts.documents == len(expected) and counts.passages == passages == 3 * len(SHARED) + 2 * (
        len(expected) - len(SHARED)
    )
    assert check_collection(database=database).problems == []


def test_a_write_waiting_longer_than_its_wait_for_another_writer_is_index_busy(database):
    from rag.errors import IndexBusyError

    collection = PostgresCollection.open(database, create=MANIFEST)
    collection.set_write_wait(0.2)
    with raw(database) as holder, holder.transaction():
        holder.execute("UPDATE state SET value = value WHERE key = 'generation'")  # as a writer mid-document does
        with pytest.raises(IndexBusyError, match="another writer"):
            collection.apply(add=[document("late", ["Anna"], np.ones((1, DIMENSION)))])
    collection.close()


# ---------------------------------------------------------------------- check and repair


def test_check_finds_counters_and_postings_that_disagree_with_the_rows_and_repair_recomputes_them(database, embedder):
    index = Index(PostgresCollection.open(database, create=MANIFEST), embedder)
    rng = np.random.default_rng(3)
    index.apply(add=[document(f"d{n}", ["Anna", "Ben"], rng.normal(size=(2, DIMENSION))) for n in range(3)])
    before = search(index, "harbour dredging", k=5, mode="lexical").hits
    assert check_collection(database=database).problems == []
    with raw(database) as conn:
        conn.execute("UPDATE state SET value = value + 5 WHERE key = 'passages'")
        conn.execute("UPDATE terms SET df = df + 1 WHERE term = 'harbour'")
        conn.execute("UPDATE speaker_counts SET passages = 99 WHERE speaker = 'Anna'")
    found = check_collection(database=database).problems
    assert any("passages counter" in p for p in found)
    assert any("document frequency" in p for p in found)
    assert any("speakers whose passage count" in p for p in found)
    report = repair_collection(database=database)
    assert report.ok, report.check.problems
    assert [(h.document.id, h.score) for h in search(index, "harbour dredging", k=5, mode="lexical").hits] == [
        (h.document.id, h.score) for h in before
    ]
    index.close()


def test_repair_rebuilds_a_lost_vector_index(database):
    PostgresCollection.open(database, create=MANIFEST).close()
    with raw(database) as conn:
        conn.execute("DROP INDEX segments_embedding")
    assert any("HNSW index" in p for p in check_collection(database=database).problems)
    report = repair_collection(database=database)
    assert any("HNSW" in action for action in report.actions) and report.ok


def test_without_the_postgres_extra_a_database_url_says_which_extra_to_install(tmp_path):
    # the driver made unimportable in a fresh process, as in an install without the extra
    code = (
        "import sys; sys.modules['psycopg'] = None; from rag.cli import app;"
        " app(['stats', '--database-url', 'postgresql://rag@db.invalid/rag'], prog_name='rag')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 1
    assert "pip install -e '.[postgres]'" in result.stderr and "Traceback" not in result.stderr


def test_a_statement_slower_than_the_statement_timeout_is_storage_unavailable_naming_the_database(database):
    from dataclasses import replace

    from rag.errors import StorageUnavailableError

    PostgresCollection.open(database, create=MANIFEST).close()
    collection = PostgresCollection.open(replace(database, statement_timeout_s=0.2))
    started = time.monotonic()
    slow = r"did not answer within 0.2 s \(statement timeout\)"
    with pytest.raises(StorageUnavailableError, match=slow), collection.reading() as reader:
        reader._conn.execute("SELECT pg_sleep(5)")  # a query the database takes too long over
    assert time.monotonic() - started < 2
    with collection.reading() as reader:  # and the next read runs
        assert reader.counts().documents == 0
    collection.close()
