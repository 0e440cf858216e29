"""Enter to results on the search page: how long a person waits, measured in a real browser.

    python -m bench.web [--searches 20] [--out bench/results/web/enter-to-results.json]

A real `rag serve` over an index built from examples/ (the seed press conference and three others) and
Debian's Chromium. For each of N distinct questions about the seed, the page is opened, the question
typed, and Enter pressed; the page's own clock (performance.now) records the keydown, the moment the
results are in the list, and the next frame after it (when they can be on screen); the browser's
resource timing says when the /search request left and its answer was in, and `took_ms` in the
answer is the server's search itself. Two warm-up searches are not counted. The question-vector cache
is off (RAG_QUERY_CACHE_SIZE=0), so that no question is answered from memory.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from bench.browser import chromium, examples_server
from bench.query import RESULTS, machine

QUESTIONS = [
    "What did Lavrov say about the phone call between Putin and Trump?",
    "What are the root causes of the conflict in Ukraine?",
    "How do Russia and Tajikistan cooperate on security?",
    "What was said about the situation in Afghanistan?",
    "What did the ministers agree about migration?",
    "Did Lavrov talk about the Biden administration?",
    "What about the Collective Security Treaty Organisation?",
    "What did the Tajik minister say about the talks?",
    "How does Russia see relations with the European Union?",
    "What happened to the agreements on Ukraine after the coup?",
    "What was said about trade between Russia and Tajikistan?",
    "Who spoke about the Commonwealth of Independent States?",
    "What did Lavrov say about negotiations with the United States?",
    "Was there anything about education and the Russian language?",
    "What did the press ask about sanctions?",
    "How does Russia view NATO expansion?",
    "What did Lavrov say about the special military operation?",
    "What did they say about the border with Afghanistan?",
    "Is there a plan for meetings between the presidents?",
    "What did Lavrov say about Europe's reaction to the call?",
    "What are the plans for economic cooperation next year?",
    "What did the minister say about drug trafficking?",
]
WARM_UP = 2

# Installed before the page's own scripts (through the browser's debugging protocol, which the page's
# CSP does not govern): the page's clock at the Enter keydown, at the first result, and a frame later.
CLOCK = """
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter") window.__enter = performance.now();
}, true);
new MutationObserver(() => {
  if (window.__enter && !window.__listed && document.querySelector("#results .result")) {
    window.__listed = performance.now();
    requestAnimationFrame(() => setTimeout(() => { window.__painted = performance.now(); }));
  }
}).observe(document, { childList: true, subtree: true });
"""


def run(searches: int) -> dict:
    before = machine()  # with the load average before the run; the one after is added at the end
    timings = []
    with examples_server(env={"RAG_QUERY_CACHE_SIZE": "0"}) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.add_init_script(CLOCK)
        page = context.new_page()
        for question in QUESTIONS[: searches + WARM_UP]:
            page.goto(url + "/")
            page.get_by_label("Question").fill(question)
            with page.expect_response("**/search") as answer:
                page.keyboard.press("Enter")
            page.wait_for_function("() => window.__painted !== undefined")
            enter, listed, painted, fetched = page.evaluate(
                "[window.__enter, window.__listed, window.__painted,"
                " performance.getEntriesByType('resource').filter(e => e.name.endsWith('/search')).pop()]"
            )
            timings.append(
                {
                    "question": question,
                    "listed_ms": round(listed - enter, 2),
                    "painted_ms": round(painted - enter, 2),
                    "request_sent_ms": round(fetched["startTime"] - enter, 2),
                    "answer_received_ms": round(fetched["responseEnd"] - enter, 2),
                    "server_took_ms": answer.value.json()["took_ms"],
                }
            )
        context.close()
    counted = timings[WARM_UP:]
    return {
        "command": f"python -m bench.web --searches {searches}",
        "machine": before,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "searches": len(counted),
        "median_painted_ms": round(statistics.median(t["painted_ms"] for t in counted), 1),
        "median_listed_ms": round(statistics.median(t["listed_ms"] for t in counted), 1),
        "median_request_sent_ms": round(statistics.median(t["request_sent_ms"] for t in counted), 1),
        "median_answer_received_ms": round(statistics.median(t["answer_received_ms"] for t in counted), 1),
        "median_server_took_ms": round(statistics.median(t["server_took_ms"] for t in counted), 1),
        "max_painted_ms": round(max(t["painted_ms"] for t in counted), 1),
        "timings": timings,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    most = len(QUESTIONS) - WARM_UP
    parser.add_argument("--searches", type=int, default=20, help=f"questions counted (at most {most})")
    parser.add_argument("--out", type=Path, default=RESULTS / "web" / "enter-to-results.json")
    args = parser.parse_args(argv)
    if not 1 <= args.searches <= most:
        parser.error(f"--searches: 1 to {most}")
    started = time.perf_counter()
    result = run(args.searches)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(
        f"Enter to results on screen, median of {result['searches']} searches: {result['median_painted_ms']} ms"
        f" (request sent {result['median_request_sent_ms']} ms after Enter, answer in at"
        f" {result['median_answer_received_ms']} ms, of which the server's search {result['median_server_took_ms']} ms;"
        f" in the list at {result['median_listed_ms']} ms; slowest: {result['max_painted_ms']} ms)"
        f" in {time.perf_counter() - started:.0f} s -> {args.out}"
    )


if __name__ == "__main__":
    main()
