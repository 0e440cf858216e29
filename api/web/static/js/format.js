// How dates, time codes, roles and recordings are shown: one place for each.
import { h } from "./dom.js";

const DATE = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });

/** "2025-02-13" -> "13 February 2025"; anything else is shown as it is. */
export function formatDate(iso) {
  if (!iso) return "";
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!match) return iso;
  const date = new Date(Date.UTC(+match[1], +match[2] - 1, +match[3]));
  return Number.isNaN(date.getTime()) ? iso : DATE.format(date);
}

/** Seconds -> "1:05" or "1:02:05", as players show them. */
export function formatTime(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const ROLE_LABELS = { question: "Question", answer: "Answer", statement: "Statement" };

/** A badge saying "Answer", "Question"...; none when the speaker's name says it already ("QUESTION"). */
export function roleBadge(role, speaker) {
  const label = ROLE_LABELS[role] || role;
  return speaker.trim().toLowerCase() === label.toLowerCase() ? null : h("span", { class: `role role-${role}` }, label);
}

const AUDIO = /\.(mp3|m4a|aac|wav|oga|ogg|opus|flac|weba)$/i;
const VIDEO = /\.(mp4|m4v|webm|ogv|mov)$/i;

/** A recording's URL, checked again here (the API only stores http and https ones), or null. */
export function safeMediaUrl(raw) {
  if (!raw) return null;
  try {
    const url = new URL(raw);
    return url.protocol === "http:" || url.protocol === "https:" ? url : null;
  } catch {
    return null;
  }
}

/** "audio", "video", or null for a URL that is not a media file (a web page about the event, say). */
export function mediaKind(url) {
  if (AUDIO.test(url.pathname)) return "audio";
  if (VIDEO.test(url.pathname)) return "video";
  return null;
}

/** Where a link to the recording goes: the file at `#t=SECONDS` (media fragments) when the moment is known. */
export function mediaHref(url, seconds) {
  const target = new URL(url.href);
  if (mediaKind(url) && seconds !== null && seconds !== undefined) target.hash = `t=${Math.floor(seconds * 10) / 10}`;
  return target.href;
}
