// The list of transcripts, a page at a time (?page=N), by date.
import { api, ApiError, indexedDocuments } from "./api.js";
import { fill, h, notice } from "./dom.js";
import { formatDate } from "./format.js";

const PAGE_SIZE = 20;
const $ = (id) => document.getElementById(id);
const list = $("documents");
const statusLine = $("status");
const noticeBox = $("notice");
const pager = $("pager");

function pageNumber() {
  const page = Number.parseInt(new URLSearchParams(location.search).get("page") || "1", 10);
  return Number.isFinite(page) && page >= 1 ? page : 1;
}

async function load() {
  const page = pageNumber();
  const params = new URLSearchParams({ offset: String((page - 1) * PAGE_SIZE), limit: String(PAGE_SIZE) });
  statusLine.textContent = "Loading…";
  let data, headers;
  try {
    ({ data, headers } = await api("/documents", { params }));
  } catch (error) {
    statusLine.textContent = "";
    return explain(error);
  }
  const total = Number(headers.get("X-Total-Count") || data.length);
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  if (!total) {
    statusLine.textContent = "";
    return nothingIndexed();
  }
  if (!data.length) {
    statusLine.textContent = "";
    return notice(noticeBox, {
      title: `There is no page ${page}`,
      lines: [[`The ${total} transcripts fill ${pages} ${pages === 1 ? "page" : "pages"}. `,
        h("a", { href: "/transcripts" }, "Go to the first page"), "."]],
    });
  }
  const first = (page - 1) * PAGE_SIZE + 1;
  statusLine.textContent = `Transcripts ${first}–${first + data.length - 1} of ${total}, oldest first.`;
  fill(list, data.map(item));
  showPager(page, pages);
}

function item(doc) {
  const facts = [];
  if (doc.date) facts.push(h("time", { datetime: doc.date }, formatDate(doc.date)));
  if (doc.place) facts.push(doc.place);
  facts.push(`${doc.turns} ${doc.turns === 1 ? "turn" : "turns"}`, `${doc.passages} ${doc.passages === 1 ? "passage" : "passages"}`);
  return h("li", { class: "doc-item", dataset: { document: doc.id } },
    h("h2", { class: "doc-item-title" }, h("a", { href: `/transcripts/${encodeURIComponent(doc.id)}` }, doc.title)),
    h("p", { class: "meta-line" },
      facts.flatMap((fact, i) => (i ? [h("span", { class: "sep", "aria-hidden": "true" }, " · "), fact] : [fact]))));
}

function showPager(page, pages) {
  if (pages < 2) return;
  const prev = $("prev");
  const next = $("next");
  for (const [link, target] of [[prev, page - 1], [next, page + 1]]) {
    if (target >= 1 && target <= pages) link.setAttribute("href", `/transcripts?page=${target}`);
    else link.removeAttribute("href"); // a link without href is shown as plain text and skipped by Tab
  }
  $("page-info").textContent = `Page ${page} of ${pages}`;
  pager.hidden = false;
}

function nothingIndexed() {
  notice(noticeBox, {
    title: "No transcripts yet",
    lines: ["Nothing has been indexed on this service yet.",
      ["Whoever runs it can add transcripts with ", h("code", {}, "rag ingest"), " or through the API (POST /documents)."]],
  });
}

async function explain(error) {
  if (!(error instanceof ApiError)) throw error;
  if (error.kind === "unavailable" && (await indexedDocuments()) === 0) return nothingIndexed();
  const messages = {
    unreachable: ["The transcript service cannot be reached", "Check your connection, or try again in a moment."],
    auth: ["An API key is needed", "This service only lists transcripts with an API key."],
  };
  const [heading, line] = messages[error.kind] || ["The transcripts could not be listed", error.message];
  notice(noticeBox, {
    tone: "error", title: heading, lines: [line],
    actions: [h("button", { type: "button", onclick: () => load() }, "Try again")],
  });
}

load();
