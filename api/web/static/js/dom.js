// Building the page: elements are made with createElement and text with text nodes, never from HTML
// strings, so a transcript's words, titles and speaker names always stay text.

/** h("a", {href: "/x", class: "c"}, "text", child) -> an element; null and false children are skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on")) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace an element's children. */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A notice box: a heading, sentences, and optional actions (buttons or links). */
export function notice(el, { title, lines = [], actions = [], tone = "info" }) {
  el.className = `notice notice-${tone}`;
  fill(el, h("h2", { class: "notice-title" }, title), lines.map((line) => h("p", {}, line)),
    actions.length ? h("p", { class: "notice-actions" }, actions) : null);
  el.hidden = false;
}

export function hideNotice(el) {
  el.hidden = true;
  el.replaceChildren();
}
