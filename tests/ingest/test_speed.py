"""Speed machinery, by behaviour: ONNX vectors, index kinds, filtered and approximate search, batching, cache.

No timings are asserted here; bench/ measures them.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from rag.batching import LRUCache, MicroBatcher, QueryEncoder
from rag.config import Settings
from rag.embedding import Embedder, cpu_has_bf16, passage_precision
from rag.index import Index
from rag.ingest import prepare
from rag.parsing import read_transcript
from rag.storage.embedded.vectors import KINDS, VectorIndex, choose_kind
from tests.conftest import EXAMPLES, FORMATS, SEED, SEED_ID

QUESTIONS = [
    "Why did the administration turn down the hotel tax?",
    "What did Lavrov say about the phone call between Putin and Trump?",
    "Will there be enough gas this winter?",
    "When do passengers get their money back for the rail closure?",
    "How many Tajik students study at Russian universities for free?",
    "Who asked about the bus routes during the works?",
    "What is the plan for the harbour seals?",
    "Is the budget balanced next year?",
]


@pytest.fixture(scope="module")
def torch_embedder() -> Embedder:
    return Embedder(backend="torch", passage_backend="torch", precision="fp32")


@pytest.fixture(scope="module")
def onnx_embedder() -> Embedder:
    return Embedder(passage_backend="onnx", precision="fp32")


@pytest.fixture(scope="module")
def real_texts() -> list[str]:
    """About two thousand overlapping windows of real transcript text (near-duplicates, as passages are).

    Short, because embedding costs in proportion to tokens (~20 MFLOP a token for this model).
    """
    words: list[str] = []
    for path in sorted([*EXAMPLES.iterdir(), *FORMATS.iterdir()]):
        if path.suffix in {".txt", ".json", ".vtt", ".srt", ".html"}:
            words.extend(re.sub(r"<[^>]+>|[{}\[\]\"]", " ", path.read_text()).split())
    texts = [" ".join(words[i : i + 8]) for i in range(0, len(words) - 8, 2)]
    return list(dict.fromkeys(texts))


@pytest.fixture(scope="module")
def real_vectors(embedder, real_texts) -> tuple[np.ndarray, np.ndarray]:
    vectors = embedder.encode_passages(real_texts)
    return np.arange(1000, 1000 + len(vectors), dtype=np.int64), vectors


# ---------------------------------------------------------------------------------------------- ONNX


def test_the_default_backends(embedder):
    """Questions on ONNX; passages of bulk work in bf16 (torch) where the CPU has it, the rest on ONNX fp32."""
    assert (embedder.backend, embedder.passage_backend) == ("onnx", "onnx")
    assert embedder.passage_precision() == "fp32"
    assert embedder.passage_precision(bulk=True) == ("bf16" if cpu_has_bf16() else "fp32")


def test_onnx_passage_vectors_match_torch(onnx_embedder, torch_embedder):
    texts = [p.read_text()[:1500] for p in sorted(EXAMPLES.glob("*.txt"))] + QUESTIONS
    onnx = onnx_embedder.encode_passages(texts)
    torch = torch_embedder.encode_passages(texts)
    cosines = (onnx * torch).sum(axis=1)
    assert cosines.min() >= 0.9999, cosines
    assert np.allclose(np.linalg.norm(onnx, axis=1), 1, atol=1e-5)


def test_onnx_question_vectors_match_torch(embedder, torch_embedder):
    for question in QUESTIONS:
        assert float(embedder.encode_queries([question])[0] @ torch_embedder.encode_queries([question])[0]) >= 0.9999


def test_onnx_counts_tokens_as_the_model_tokenizer_does(embedder, torch_embedder):
    texts = [*QUESTIONS, "Grand-père’s café — naïve co-operation, 3,000 km²!", ""]
    assert embedder.count_tokens(texts) == torch_embedder.count_tokens(texts)
    assert embedder.max_tokens == torch_embedder.max_tokens
    assert embedder.dimension == torch_embedder.dimension == 384


def test_int8_questions_stay_close_to_the_model(embedder):
    int8 = Embedder(backend="onnx-int8")
    for question in QUESTIONS[:3]:
        cosine = float(int8.encode_queries([question])[0] @ embedder.encode_queries([question])[0])
        assert 0.98 <= cosine < 1.0001  # per-channel MatMul quantisation: ~0.994 on real questions


# ---------------------------------------------------------------------------------------------- precision


@pytest.fixture(scope="module")
def seed_segments(tmp_path_factory, embedder) -> list[str]:
    """The seed transcript's segments, chunked as an ingest chunks them."""
    index = Index.open(tmp_path_factory.mktemp("seed-segments"), create=True, embedder=embedder)
    prepared = prepare(index, read_transcript(SEED), SEED_ID)
    return [segment.text for segment in prepared.segments]


def test_bf16_passage_vectors_agree_with_fp32(seed_segments, torch_embedder, onnx_embedder):
    bf16 = Embedder(precision="bf16").encode_passages(seed_segments)
    assert len(seed_segments) >= 20
    for fp32 in (torch_embedder.encode_passages(seed_segments), onnx_embedder.encode_passages(seed_segments)):
        cosines = (bf16 * fp32).sum(axis=1)
        assert cosines.min() >= 0.999, cosines.min()
        assert not np.array_equal(bf16, fp32)  # bf16 did run: its vectors are near fp32's, not equal
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1, atol=1e-5)


def configured() -> Embedder:
    """An embedder as the service makes it: its options from the settings (RAG_* variables)."""
    return Embedder(options=Settings().embedder_options())


def test_fp32_is_forced_by_the_setting(monkeypatch, seed_segments, onnx_embedder):
    monkeypatch.setenv("RAG_EMBED_PRECISION", "fp32")
    embedder = configured()
    assert embedder.passage_precision(bulk=True) == "fp32"
    vectors = embedder.encode_passages(seed_segments, bulk=True)
    assert np.allclose(vectors, onnx_embedder.encode_passages(seed_segments), atol=1e-6)
    assert not embedder.torch_loaded  # fp32 passages run on ONNX


def test_bf16_is_forced_by_the_setting(monkeypatch, seed_segments):
    monkeypatch.setenv("RAG_EMBED_PRECISION", "BF16")
    embedder = configured()
    assert embedder.passage_precision() == embedder.passage_precision(bulk=True) == "bf16"
    embedder.encode_passages(seed_segments[:2])  # not bulk work, and still bf16
    assert embedder.torch_loaded
    monkeypatch.delenv("RAG_EMBED_PRECISION")
    assert Embedder(passage_backend="torch-bf16").passage_precision() == "bf16"  # the older spelling


def test_contradicting_or_unknown_precisions_are_errors(monkeypatch):
    from rag.errors import RagError

    with pytest.raises(RagError, match="torch-bf16"):
        Embedder(passage_backend="torch-bf16", precision="fp32")
    with pytest.raises(RagError, match="precision must be one of auto, fp32, bf16"):
        Embedder(precision="fp16")
    monkeypatch.setenv("RAG_EMBED_PRECISION", "fp16")
    with pytest.raises(ValidationError, match="embed_precision"):
        Settings()


def test_auto_precision_follows_the_cpu_flags(tmp_path):
    flags = {
        "fpu sse avx2 avx512f avx512bw avx512_bf16 avx512_vnni": True,  # Zen 4 and later, Cooper Lake
        "fpu sse avx2 avx512f amx_bf16 amx_tile amx_int8": True,  # Sapphire Rapids
        "fpu sse avx2 avx512f avx512bw avx512_vnni": False,  # AVX512 without bf16: torch would emulate it
        "fpu sse avx2 fma": False,
    }
    for line, native in flags.items():
        cpuinfo = tmp_path / "cpuinfo"
        cpuinfo.write_text(f"processor\t: 0\nmodel name\t: a CPU\nflags\t\t: {line}\n\n")
        assert cpu_has_bf16(cpuinfo) is native, line
        assert passage_precision("auto", bulk=True, cpu_bf16=native) == ("bf16" if native else "fp32")
        assert passage_precision("auto", bulk=False, cpu_bf16=native) == "fp32"
    assert cpu_has_bf16(tmp_path / "missing") is False  # not Linux: fp32
    assert passage_precision("fp32", bulk=True, cpu_bf16=True) == "fp32"
    assert passage_precision("bf16", bulk=False, cpu_bf16=False) == "bf16"


def test_only_a_bulk_ingest_loads_torch_for_bf16(monkeypatch, tmp_path):
    """A small ingest (or a server's upload) stays on ONNX fp32: loading torch would cost it more than bf16 saves."""
    from rag import ingest

    small = Embedder()
    report = ingest.ingest_paths(Index.open(tmp_path / "small", create=True, embedder=small), [EXAMPLES])
    assert report.documents and not small.torch_loaded
    monkeypatch.setattr(ingest, "BULK_BYTES", 1)  # the same files, counted as bulk work
    bulk = Embedder()
    ingest.ingest_paths(Index.open(tmp_path / "bulk", create=True, embedder=bulk), [EXAMPLES])
    assert bulk.torch_loaded is cpu_has_bf16()


def test_passages_are_the_same_with_one_worker_or_several(monkeypatch, seed_segments, embedder):
    """Workers change which passages share a batch (so padding), never a passage's vector or its place."""
    monkeypatch.setenv("RAG_PASSAGE_THREADS", "1")
    one = configured().encode_passages(seed_segments)
    monkeypatch.setenv("RAG_PASSAGE_THREADS", "3")
    three = configured().encode_passages(seed_segments)
    assert (one * three).sum(axis=1).min() >= 0.9999
    assert (one * embedder.encode_passages(seed_segments)).sum(axis=1).min() >= 0.9999


def test_an_unknown_backend_is_an_error(monkeypatch):
    from rag.errors import RagError

    with pytest.raises(RagError, match="backend must be one of"):
        Embedder(backend="tensorflow")
    monkeypatch.setenv("RAG_EMBED_BACKEND", "tensorflow")
    with pytest.raises(ValidationError, match="embed_backend"):
        Settings()


# ---------------------------------------------------------------------------------------------- index kinds


def test_kind_is_chosen_by_size():
    assert choose_kind(1_000) == "flat"
    assert choose_kind(5_000_000) == "ivf-sq8"


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_returns_filtered_results_only_among_allowed_ids(real_vectors, embedder, kind):
    ids, vectors = real_vectors
    index = VectorIndex.build(vectors.shape[1], ids, vectors, kind=kind)
    assert index.kind == kind and len(index) == len(ids)
    queries = np.stack([embedder.encode_query(q) for q in QUESTIONS])
    rng = np.random.default_rng(1)
    for share in (0.002, 0.05, 0.5):  # a subset searched exactly, and selectors in the index
        allowed = np.sort(rng.choice(ids, max(3, int(share * len(ids))), replace=False))
        scores, found = index.search(queries, 10, allowed)
        assert set(found[found >= 0].ravel().tolist()) <= set(allowed.tolist())
        assert (found >= 0).sum(axis=1).min() == min(10, len(allowed))  # a full page when there is one
        for row_scores, row_ids in zip(scores, found, strict=True):
            assert np.all(np.diff(row_scores[row_ids >= 0]) <= 1e-6)  # best first


def test_a_small_filter_on_an_approximate_index_is_exact(real_vectors, embedder):
    ids, vectors = real_vectors
    index = VectorIndex.build(vectors.shape[1], ids, vectors, kind="ivf-sq8")
    allowed = ids[::50]
    query = embedder.encode_query(QUESTIONS[0])
    truth = allowed[np.argsort(-(vectors[::50] @ query))[:5]]
    _, found = index.search(query, 5, allowed)
    assert found[0].tolist() == truth.tolist()


def test_approximate_recall_at_10_against_exact(real_vectors, real_texts):
    ids, vectors = real_vectors
    exact = VectorIndex.build(vectors.shape[1], ids, vectors, kind="flat")
    approximate = VectorIndex.build(vectors.shape[1], ids, vectors, kind="ivf-sq8")
    # questions: held-out windows of real text, perturbed so none is in the index
    rng = np.random.default_rng(2)
    queries = vectors[rng.choice(len(vectors), 200, replace=False)] + rng.normal(0, 0.02, (200, vectors.shape[1]))
    queries = (queries / np.linalg.norm(queries, axis=1, keepdims=True)).astype(np.float32)
    _, truth = exact.search(queries, 10)
    _, found = approximate.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.98, recall


@pytest.mark.parametrize("kind", KINDS)
def test_kinds_survive_save_and_memory_mapped_load(tmp_path: Path, real_vectors, kind):
    ids, vectors = real_vectors
    index = VectorIndex.build(vectors.shape[1], ids, vectors, kind=kind)
    path = tmp_path / "v.faiss"
    index.save(path)
    loaded = VectorIndex.load(path)
    assert (loaded.kind, len(loaded)) == (kind, len(ids))
    _, before = index.search(vectors[10:13], 3)
    _, after = loaded.search(vectors[10:13], 3)
    assert before.tolist() == after.tolist()
    assert after[:, 0].tolist() == ids[10:13].tolist()
    assert loaded.ids().tolist() == sorted(ids.tolist())


def test_an_empty_index_searches_to_nothing():
    index = VectorIndex.empty(4)
    _scores, found = index.search(np.ones(4, dtype=np.float32) / 2, 5)
    assert (found == -1).all()


# ---------------------------------------------------------------------------------------------- batching


def test_micro_batcher_groups_waiting_calls_and_answers_each_its_own():
    release = threading.Event()
    batches: list[list[int]] = []

    def square(items: list[int]) -> list[int]:
        batches.append(items)
        if len(batches) == 1:
            release.wait(10)  # hold the first batch until every other call is queued
        return [i * i for i in items]

    batcher = MicroBatcher(square, max_batch=64)
    results: dict[int, int] = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, batcher(i))) for i in range(20)]
    threads[0].start()
    while not batches:
        threading.Event().wait(0.001)
    for thread in threads[1:]:
        thread.start()
    while len(batcher._pending) < 19:
        threading.Event().wait(0.001)
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == {i: i * i for i in range(20)}
    assert len(batches) == 2 and sorted(batches[1]) == list(range(1, 20))


def test_micro_batcher_raises_a_batch_error_in_every_caller():
    def broken(items):
        raise ValueError("boom")

    batcher = MicroBatcher(broken)
    with pytest.raises(ValueError, match="boom"):
        batcher(1)
    with pytest.raises(ValueError, match="boom"):
        batcher(2)


def test_concurrent_questions_each_get_their_own_vector(embedder):
    questions = [f"{q} (asked by caller {i})" for i in range(4) for q in QUESTIONS]
    expected = {q: embedder.encode_queries([q])[0] for q in questions}
    encoder = QueryEncoder(embedder.encode_queries, cache_size=0)
    results: dict[str, np.ndarray] = {}
    barrier = threading.Barrier(len(questions))

    def ask(question: str) -> None:
        barrier.wait()
        results[question] = encoder(question)

    threads = [threading.Thread(target=ask, args=(q,)) for q in questions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert set(results) == set(questions)
    for question in questions:
        assert float(results[question] @ expected[question]) >= 0.9999, question
    assert encoder.batcher.items == len(questions)


def test_the_cache_returns_the_same_vector(embedder):
    encoder = QueryEncoder(embedder.encode_queries, cache_size=4)
    first = encoder(QUESTIONS[0])
    again = encoder(QUESTIONS[0])
    assert again is first and encoder.cache.hits == 1
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0] = 1.0
    for q in QUESTIONS[1:6]:
        encoder(q)
    assert len(encoder.cache) == 4
    assert np.array_equal(encoder(QUESTIONS[0]), first)  # evicted, embedded again: the same vector


def test_encode_query_goes_through_the_embedders_cache(embedder):
    vector = embedder.encode_query("A question asked twice about the harbour")
    assert embedder.encode_query("A question asked twice about the harbour") is vector


def test_lru_cache_evicts_the_least_recently_used():
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)
    off: LRUCache[str, int] = LRUCache(0)
    off.put("a", 1)
    assert off.get("a") is None


# ---------------------------------------------------------------------------------------------- BM25


def test_tokenize_gives_the_tokens_bm25s_gives(real_texts):
    import bm25s

    from rag.lexical import _STEMMER, terms
    from rag.textclean import clean_for_index

    texts = [*real_texts[:500], "", "Don't -- e-mail 3,000 km² naïve café ÉTÉ", "we 're {vocalsound} ok"]
    expected = bm25s.tokenize(
        [clean_for_index(t) for t in texts], stopwords="en", stemmer=_STEMMER, return_ids=False, show_progress=False
    )
    assert [terms(t) for t in texts] == expected
