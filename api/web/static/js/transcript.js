// One transcript as a page: speaker turns in order, times where known, the recording when there is one,
// and the passage named in the address (#p-<passage id>, as search results link to it) marked and in view.
import { api, ApiError, indexedDocuments } from "./api.js";
import { fill, h, hideNotice, notice } from "./dom.js";
import { formatDate, formatTime, mediaHref, mediaKind, roleBadge, safeMediaUrl } from "./format.js";

const $ = (id) => document.getElementById(id);
const title = $("doc-title");
const meta = $("doc-meta");
const playerBox = $("player");
const turnsList = $("turns");
const statusLine = $("status");
const noticeBox = $("notice");

const docId = idFromPath(location.pathname.replace(/^\/transcripts\//, ""));
let doc = null;
let media = null; // the <audio> or <video> element, when the recording is a media file
let mediaUrl = null;

function idFromPath(raw) {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // a malformed %-escape: asked for as it is, and answered "not here"
  }
}

function targetId() {
  const match = /^#p-(\d+)$/.exec(location.hash);
  return match ? Number(match[1]) : null;
}

async function load() {
  statusLine.textContent = "Loading the transcript…";
  try {
    ({ data: doc } = await api(`/documents/${encodeURIComponent(docId)}`));
  } catch (error) {
    statusLine.textContent = "";
    return explain(error);
  }
  statusLine.textContent = "";
  document.title = `${doc.title} · Transcript search`;
  title.textContent = doc.title;
  mediaUrl = safeMediaUrl(doc.media_url);
  fill(meta, metaLine());
  showPlayer();
  fill(turnsList, doc.turns.map((turn, i) => turnItem(turn, i)));
  markTarget();
}

function metaLine() {
  const parts = [];
  if (doc.date) parts.push(h("time", { datetime: doc.date }, formatDate(doc.date)));
  if (doc.place) parts.push(doc.place);
  parts.push(`${doc.turns.length} ${doc.turns.length === 1 ? "turn" : "turns"}`);
  if (doc.number) parts.push(`No. ${doc.number}`);
  if (doc.source) parts.push(`Source: ${doc.source}`);
  return parts.flatMap((part, i) => (i ? [h("span", { class: "sep", "aria-hidden": "true" }, " · "), part] : [part]));
}

function showPlayer() {
  if (!mediaUrl) return;
  const kind = mediaKind(mediaUrl);
  if (kind) {
    media = h(kind, { controls: true, preload: "metadata", src: mediaUrl.href, class: "media" },
      `Your browser cannot play this recording here: `, h("a", { href: mediaUrl.href }, "open it"), ".");
    fill(playerBox, h("p", { class: "player-label" }, "Recording"), media);
  } else {
    fill(playerBox, h("p", {}, h("a", { href: mediaUrl.href, rel: "noopener noreferrer" }, "Open the recording")));
  }
  playerBox.hidden = false;
}

/** Play the recording from a moment, in the page's own player. */
function seek(seconds, play) {
  const apply = () => {
    media.currentTime = seconds;
    if (play) media.play().catch(() => {}); // a browser may refuse to play before a click: the seek stays
  };
  if (media.readyState >= 1) apply();
  else media.addEventListener("loadedmetadata", apply, { once: true });
}

function timeLink(seconds, label) {
  if (mediaUrl && mediaKind(mediaUrl)) {
    return h("a", {
      href: mediaHref(mediaUrl, seconds), class: "time-code", "aria-label": `${label} ${formatTime(seconds)}`,
      onclick: (event) => {
        if (!media) return;
        event.preventDefault();
        seek(seconds, true);
      },
    }, formatTime(seconds));
  }
  return h("span", { class: "time-code" }, formatTime(seconds));
}

function turnItem(turn, index) {
  const timed = turn.start !== null && turn.start !== undefined;
  return h("li", { class: `turn role-${turn.role}`, id: `turn-${index}`, dataset: { speaker: turn.speaker } },
    h("div", { class: "turn-head" },
      h("span", { class: "speaker-name" }, turn.speaker),
      roleBadge(turn.role, turn.speaker),
      timed ? timeLink(turn.start, "Play from") : null),
    h("div", { class: "turn-text" }, passagesOf(turn, null)));
}

/**
 * A turn's text, cut where each passage starts: each passage's first stretch is a <span id="p-ID">, so a
 * link can find it even though a turn's passages overlap by a few words. The target's whole range, which
 * may run into the next passage's stretch, is wrapped in <mark>.
 */
function passagesOf(turn, target) {
  const text = turn.text;
  const spans = turn.passages;
  const cuts = new Set([0, text.length, ...spans.map((p) => p.start_char)]);
  if (target) cuts.add(target.start_char).add(target.end_char);
  const points = [...cuts].filter((c) => c >= 0 && c <= text.length).sort((a, b) => a - b);
  const out = [];
  let holder = null; // the span of the passage whose stretch this is
  for (let i = 0; i < points.length - 1; i += 1) {
    const [a, b] = [points[i], points[i + 1]];
    const starting = spans.filter((p) => p.start_char === a);
    if (starting.length) {
      // passages that start at the same place: all but the last get an empty anchor
      starting.slice(0, -1).forEach((p) => out.push(h("span", { class: "passage", id: `p-${p.id}` })));
      const p = starting[starting.length - 1];
      holder = h("span", { class: "passage", id: `p-${p.id}`, dataset: { passage: p.id } });
      out.push(holder);
    }
    const piece = text.slice(a, b);
    const inTarget = target && a >= target.start_char && b <= target.end_char;
    const nodes = inTarget ? marks(piece) : [document.createTextNode(piece)];
    if (holder) holder.append(...nodes);
    else out.push(...nodes); // text before the first passage (none is expected: passages cover their turn)
  }
  return out;
}

/** Text in <mark>s, but for the breaks between paragraphs, which would show as an empty marked line. */
function marks(text) {
  return text.split(/(\s*\n\s*)/).filter(Boolean).map((part) => (/\n/.test(part)
    ? document.createTextNode(part) : h("mark", { class: "passage-mark" }, part)));
}

function findPassage(id) {
  for (const [index, turn] of doc.turns.entries()) {
    const span = turn.passages.find((p) => p.id === id);
    if (span) return { index, turn, span };
  }
  return null;
}

let marked = null; // the turn index whose passage is marked

function markTarget() {
  if (marked !== null) {
    const old = doc.turns[marked];
    fill(document.querySelector(`#turn-${marked} .turn-text`), passagesOf(old, null));
    document.getElementById(`turn-${marked}`).classList.remove("has-target");
    marked = null;
  }
  hideNotice(noticeBox);
  const id = targetId();
  if (id === null) return;
  const found = findPassage(id);
  if (!found) {
    return notice(noticeBox, {
      title: "That passage is no longer in this transcript",
      lines: ["The transcript may have been updated since the link was made. The whole transcript is below."],
    });
  }
  const { index, turn, span } = found;
  fill(document.querySelector(`#turn-${index} .turn-text`), passagesOf(turn, span));
  const item = document.getElementById(`turn-${index}`);
  item.classList.add("has-target");
  marked = index;
  const anchor = document.getElementById(`p-${id}`);
  anchor.classList.add("target");
  anchor.setAttribute("tabindex", "-1");
  anchor.scrollIntoView({ block: "center" });
  anchor.focus({ preventScroll: true }); // a screen reader starts reading at the passage
  if (media && span.start !== null && span.start !== undefined) seek(span.start, false);
}

async function explain(error) {
  if (!(error instanceof ApiError)) throw error;
  fill(turnsList);
  if (error.kind === "not-found" || (error.kind === "invalid" && error.field === "id")) {
    title.textContent = "No such transcript";
    return notice(noticeBox, {
      title: "This transcript is not here",
      lines: [`There is no transcript with the id “${docId}”. It may have been removed, or the link is incomplete.`,
        ["See ", h("a", { href: "/transcripts" }, "all the transcripts"), " or ", h("a", { href: "/" }, "search"), "."]],
    });
  }
  if (error.kind === "unavailable" && (await indexedDocuments()) === 0) {
    title.textContent = "Nothing indexed yet";
    return notice(noticeBox, {
      title: "Nothing to show yet",
      lines: ["No transcripts have been indexed on this service yet."],
    });
  }
  const messages = {
    unreachable: ["The transcript service cannot be reached", "Check your connection, or try again in a moment."],
    auth: ["An API key is needed", "This service only shows transcripts with an API key."],
  };
  const [heading, line] = messages[error.kind] || ["The transcript could not be shown", error.message];
  notice(noticeBox, {
    tone: "error", title: heading, lines: [line],
    actions: [h("button", { type: "button", onclick: () => load() }, "Try again")],
  });
}

window.addEventListener("hashchange", () => {
  if (doc) markTarget();
});
load();
