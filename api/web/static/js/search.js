// The search page: the question and filters live in the address (/?q=...&speaker=...&from=...&to=...&mode=...),
// so a result list can be shared, bookmarked, and gone back to.
import { api, ApiError, indexedDocuments } from "./api.js";
import { fill, h, hideNotice, notice } from "./dom.js";
import { formatDate, formatTime, mediaHref, mediaKind, roleBadge, safeMediaUrl } from "./format.js";
import { SpeakerPicker } from "./speakers.js";

const PAGE_SIZE = 10;
const MODES = ["hybrid", "dense", "lexical"];
const DATE_LABELS = { "filters.date_from": "From", "filters.date_to": "To" };

const $ = (id) => document.getElementById(id);
const form = $("search-form");
const input = $("q");
const fromInput = $("from");
const toInput = $("to");
const modeSelect = $("mode");
const statusLine = $("status");
const noticeBox = $("notice");
const list = $("results");
const more = $("more");
const dateError = $("date-error");
const filtersBox = $("filters-box");

let current = null; // the search shown: {state, offset}
let inFlight = null; // its AbortController: a newer search cancels an older one

const picker = new SpeakerPicker({
  input: $("speaker-input"),
  listbox: $("speaker-options"),
  chips: $("speaker-chips"),
  onChange: () => filtersChanged(),
});

// ---------------------------------------------------------------- the address

function readAddress() {
  const params = new URLSearchParams(location.search);
  const mode = params.get("mode");
  return {
    q: (params.get("q") || "").trim(),
    speakers: params.getAll("speaker").filter(Boolean),
    from: params.get("from") || "",
    to: params.get("to") || "",
    mode: MODES.includes(mode) ? mode : "hybrid",
  };
}

function address(state) {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  for (const name of state.speakers) params.append("speaker", name);
  if (state.from) params.set("from", state.from);
  if (state.to) params.set("to", state.to);
  if (state.mode !== "hybrid") params.set("mode", state.mode);
  const query = params.toString();
  return query ? `/?${query}` : "/";
}

function readForm() {
  return {
    q: input.value.trim(),
    speakers: [...picker.chosen],
    from: fromInput.value,
    to: toInput.value,
    mode: modeSelect.value,
  };
}

function showInForm(state) {
  input.value = state.q;
  picker.set(state.speakers);
  fromInput.value = state.from; // a date the browser cannot read is left empty; the API names the problem
  toInput.value = state.to;
  modeSelect.value = state.mode;
  countFilters(state);
}

/** "(2 on)" beside Filters; on a phone the filters stay folded away unless some are on. */
function countFilters(state) {
  const on = state.speakers.length + (state.from ? 1 : 0) + (state.to ? 1 : 0) + (state.mode !== "hybrid" ? 1 : 0);
  $("filter-count").textContent = on ? `(${on} on)` : "";
  if (on) filtersBox.open = true;
}

// ---------------------------------------------------------------- searching

/** Run a search as a new entry in the history (the back button returns to the one before). */
function go(state) {
  if (address(state) !== location.pathname + location.search) history.pushState(null, "", address(state));
  showInForm(state); // a search may come from a button ("Search without filters"), not from the form
  search(state);
}

async function search(state, offset = 0) {
  inFlight?.abort();
  clearDateError();
  hideNotice(noticeBox);
  if (!state.q) {
    inFlight = null;
    current = null;
    fill(list);
    more.hidden = true;
    document.title = "Search · Transcript search";
    return introduce();
  }
  document.title = `${state.q} · Transcript search`;
  if (state.from && state.to && state.from > state.to) {
    fill(list);
    more.hidden = true;
    statusLine.textContent = "";
    return showDateError(`The “From” date (${formatDate(state.from)}) is after the “To” date (${formatDate(state.to)}).`);
  }
  const controller = new AbortController();
  inFlight = controller;
  list.setAttribute("aria-busy", "true");
  if (!offset) statusLine.textContent = "Searching…";
  const body = { query: state.q, k: PAGE_SIZE, offset, mode: state.mode };
  const filters = {};
  if (state.speakers.length) filters.speaker = state.speakers;
  if (state.from) filters.date_from = state.from;
  if (state.to) filters.date_to = state.to;
  if (Object.keys(filters).length) body.filters = filters;
  try {
    const { data } = await api("/search", { method: "POST", body, signal: controller.signal });
    if (inFlight !== controller) return;
    current = { state, offset };
    show(data, state, offset);
  } catch (error) {
    if (error.name === "AbortError" || inFlight !== controller) return;
    if (!offset) fill(list);
    more.hidden = true;
    statusLine.textContent = "";
    await explain(error, state);
  } finally {
    if (inFlight === controller) {
      inFlight = null;
      list.removeAttribute("aria-busy");
    }
  }
}

function show(data, state, offset) {
  const items = data.results.map((hit) => result(hit));
  if (offset) list.append(...items);
  else fill(list, items);
  more.hidden = data.results.length < PAGE_SIZE;
  const shown = offset + data.results.length;
  if (!shown) {
    statusLine.textContent = "No results.";
    return nothingFound(state);
  }
  const ms = Math.round(data.took_ms);
  statusLine.textContent = `${shown} ${shown === 1 ? "passage" : "passages"} for “${state.q}”${filterWords(state)}, best first (${ms} ms).`;
  if (offset && items.length) items[0].querySelector("a")?.focus(); // keyboard users land on the first new one
}

function filterWords(state) {
  const words = [];
  if (state.speakers.length) words.push(` by ${state.speakers.join(" or ")}`);
  if (state.from) words.push(` from ${formatDate(state.from)}`);
  if (state.to) words.push(` until ${formatDate(state.to)}`);
  return words.join(",");
}

// ---------------------------------------------------------------- one result

function result(hit) {
  const doc = hit.document;
  const link = `/transcripts/${encodeURIComponent(doc.id)}#p-${hit.passage_id}`;
  const headingId = `result-${hit.rank}`;
  return h("li", { class: "result", dataset: { speaker: hit.speaker, document: doc.id } },
    h("article", { "aria-labelledby": headingId },
      h("header", { class: "result-head" },
        h("h3", { class: "speaker", id: headingId },
          h("span", { class: "speaker-name" }, hit.canonical_speaker),
          hit.speaker !== hit.canonical_speaker ? h("span", { class: "as-written" }, `as written: ${hit.speaker}`) : null),
        roleBadge(hit.role, hit.canonical_speaker)),
      h("div", { class: "source" },
        h("a", { href: link, class: "doc-title", title: doc.title }, doc.title),
        h("p", { class: "meta-line" },
          doc.date ? h("span", { class: "meta" }, h("time", { datetime: doc.date }, formatDate(doc.date))) : null,
          doc.place ? h("span", { class: "meta" }, doc.place) : null,
          hit.start !== null && hit.start !== undefined
            ? h("span", { class: "meta time-code" }, `at ${formatTime(hit.start)}`) : null)),
      hit.context ? asked(hit.context) : null,
      h("p", { class: "text" }, marked(hit.text, hit.highlight)),
      h("p", { class: "actions" },
        h("a", { href: link }, "Read it in the transcript"),
        recordingLink(doc.media_url, hit.start))));
}

/** The text with the highlight's characters in a <mark>; offsets are the API's, into this very text. */
function marked(text, highlight) {
  if (!highlight || highlight.end_char <= highlight.start_char) return [text];
  return [text.slice(0, highlight.start_char),
    h("mark", {}, text.slice(highlight.start_char, highlight.end_char)),
    text.slice(highlight.end_char)];
}

const SHORT_QUESTION = 150;

/** The question an answer answers, cut short when long, with a button to read all of it. */
function asked(question) {
  const long = question.length > SHORT_QUESTION;
  const cut = long ? `${question.slice(0, question.lastIndexOf(" ", SHORT_QUESTION))}…` : question;
  const text = h("span", { class: "context-text" }, cut);
  const toggle = long ? h("button", {
    type: "button", class: "link-button", "aria-expanded": "false",
    onclick: (event) => {
      const open = event.currentTarget.getAttribute("aria-expanded") !== "true";
      text.textContent = open ? question : cut;
      event.currentTarget.setAttribute("aria-expanded", String(open));
      event.currentTarget.textContent = open ? "Show less" : "Show the whole question";
    },
  }, "Show the whole question") : null;
  return h("div", { class: "context" }, h("span", { class: "context-label" }, "In answer to "), text, toggle ? " " : null, toggle);
}

function recordingLink(mediaUrl, seconds) {
  const url = safeMediaUrl(mediaUrl);
  if (!url) return null;
  const kind = mediaKind(url);
  const timed = kind && seconds !== null && seconds !== undefined;
  const label = timed ? `${kind === "video" ? "Watch" : "Listen"} from ${formatTime(seconds)}` : "Open the recording";
  return h("a", { href: mediaHref(url, seconds), class: "recording", rel: "noopener noreferrer", target: "_blank" }, label);
}

// ---------------------------------------------------------------- empty states and errors

async function introduce() {
  statusLine.textContent = "";
  const documents = await indexedDocuments();
  if (readForm().q || current) return; // a search started meanwhile
  if (documents === 0) return nothingIndexed();
  const count = documents === null ? "the" : `${documents} ${documents === 1 ? "transcript" : "transcripts"}`;
  notice(noticeBox, {
    title: "Who said what, about what?",
    lines: [`Ask a question in plain words to search ${count}: each result is the passage that answers it,`
      + " with who said it, when, and the question they were answering.",
      ["Or ", h("a", { href: "/transcripts" }, "browse the transcripts"), "."]],
  });
}

function nothingIndexed() {
  notice(noticeBox, {
    title: "Nothing to search yet",
    lines: ["No transcripts have been indexed on this service yet, so there is nothing to search.",
      ["Whoever runs it can add some with ", h("code", {}, "rag ingest"), " or through the API (POST /documents);"
        + " then come back to this page."]],
  });
}

function nothingFound(state) {
  const filtered = state.speakers.length || state.from || state.to;
  const lines = [filtered
    ? `Nothing matches “${state.q}”${filterWords(state)}.`
    : `Nothing in the transcripts matches “${state.q}”.`];
  const actions = [];
  if (filtered) {
    lines.push("The filters may be too narrow: a different speaker or a wider date range may find something.");
    actions.push(h("button", { type: "button", onclick: () => go({ ...state, speakers: [], from: "", to: "" }) },
      "Search without filters"));
  } else if (state.mode !== "hybrid") {
    lines.push("Try matching meaning and words together, or other words.");
    actions.push(h("button", { type: "button", onclick: () => go({ ...state, mode: "hybrid" }) },
      "Match meaning and words"));
  } else {
    lines.push("Try other words, or name the person or topic you are after.");
  }
  notice(noticeBox, { title: "No results", lines, actions });
}

async function explain(error, state) {
  if (!(error instanceof ApiError)) throw error;
  const retry = h("button", { type: "button", onclick: () => search(state) }, "Try again");
  if (error.kind === "invalid" && DATE_LABELS[error.field]) {
    const value = error.field === "filters.date_from" ? state.from : state.to;
    const label = DATE_LABELS[error.field];
    return showDateError(`The “${label}” date “${value}” is not a date. Write dates as year-month-day,`
      + " for example 2025-02-13, or pick one from the calendar.", error.field === "filters.date_from" ? fromInput : toInput);
  }
  if (error.kind === "unreachable") {
    return notice(noticeBox, {
      tone: "error", title: "The search service cannot be reached",
      lines: ["Your question was not sent: the service did not answer. Check your connection;"
        + " if it is fine, the service may be restarting. Try again in a moment."],
      actions: [retry],
    });
  }
  if (error.kind === "unavailable") {
    const documents = await indexedDocuments();
    if (documents === 0) return nothingIndexed();
    return notice(noticeBox, {
      tone: "error", title: "The search could not be finished", lines: [sentence(error.message)], actions: [retry],
    });
  }
  if (error.kind === "auth") {
    return notice(noticeBox, {
      tone: "error", title: "An API key is needed",
      lines: ["This service only answers with an API key. Ask whoever runs it for one."],
      actions: [h("button", { type: "button", onclick: () => search(state) }, "Enter a key")],
    });
  }
  if (error.kind === "invalid") {
    return notice(noticeBox, { tone: "error", title: "This search cannot be run", lines: [sentence(error.message)] });
  }
  notice(noticeBox, {
    tone: "error", title: "Something went wrong on the server",
    lines: [sentence(error.message), "Try again; if it keeps happening, tell whoever runs this service."],
    actions: [retry],
  });
}

/** The API's messages are in words already; they get a capital letter and a full stop here. */
function sentence(text) {
  const trimmed = text.trim();
  return trimmed.charAt(0).toUpperCase() + trimmed.slice(1) + (/[.!?)]$/.test(trimmed) ? "" : ".");
}

function showDateError(message, field = null) {
  dateError.textContent = message;
  dateError.hidden = false;
  for (const el of [fromInput, toInput]) {
    if (!field || el === field) el.setAttribute("aria-invalid", "true");
  }
  statusLine.textContent = message;
}

function clearDateError() {
  dateError.hidden = true;
  dateError.textContent = "";
  fromInput.removeAttribute("aria-invalid");
  toInput.removeAttribute("aria-invalid");
}

// ---------------------------------------------------------------- events

let filterTimer = null;

/** A changed filter reruns a search already shown (after a pause: typing a date changes it at every digit). */
function filtersChanged(delay = 0) {
  countFilters(readForm());
  clearTimeout(filterTimer);
  filterTimer = setTimeout(() => {
    const state = readForm();
    if (state.q) go(state);
  }, delay);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  go(readForm());
});
fromInput.addEventListener("change", () => filtersChanged(600));
toInput.addEventListener("change", () => filtersChanged(600));
modeSelect.addEventListener("change", () => filtersChanged());
more.addEventListener("click", () => {
  if (current) search(current.state, current.offset + PAGE_SIZE);
});
window.addEventListener("popstate", () => {
  const state = readAddress();
  showInForm(state);
  search(state);
});
document.addEventListener("keydown", (event) => {
  // "/" jumps to the question from anywhere but a text field, as on many search sites
  const typing = event.target.closest?.("input, textarea, select, [contenteditable]");
  if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
    event.preventDefault();
    input.focus();
    input.select();
  }
});

if (window.matchMedia("(max-width: 44rem)").matches) filtersBox.open = false;
const initial = readAddress();
showInForm(initial);
search(initial);
