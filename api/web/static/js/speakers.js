// The speaker filter: a combobox over the speaker directory (GET /speakers, canonical names and the
// spellings behind them), and the chosen names as removable chips.
import { api } from "./api.js";
import { fill, h } from "./dom.js";

const SHOWN = 8;

/** Letters without accents, lower case: "Lavrov" finds "Lávrov" and the other way round. */
function fold(text) {
  return text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
}

export class SpeakerPicker {
  /** onChange(names) is called after a name is added or removed. */
  constructor({ input, listbox, chips, onChange }) {
    Object.assign(this, { input, listbox, chips, onChange });
    this.chosen = [];
    this.options = [];
    this.active = -1;
    this.directory = null; // a promise of the speakers, asked for on first use
    input.addEventListener("input", () => this.open());
    input.addEventListener("focus", () => this.load());
    input.addEventListener("keydown", (event) => this.key(event));
    input.addEventListener("blur", () => this.close());
    // a click on an option must not blur the input first, which would close the list under the pointer
    listbox.addEventListener("mousedown", (event) => event.preventDefault());
  }

  load() {
    if (!this.directory) {
      this.directory = api("/speakers").then(({ data }) => data, () => {
        this.directory = null; // try again on the next keystroke
        return [];
      });
    }
    return this.directory;
  }

  /** Show the names as they come from the address (no directory needed to show them). */
  set(names) {
    this.chosen = [...new Set(names)];
    this.renderChips();
  }

  async open() {
    const typed = fold(this.input.value.trim());
    const people = await this.load();
    if (fold(this.input.value.trim()) !== typed) return; // a later keystroke is being served
    const matches = people.filter((person) => !this.chosen.includes(person.name) && (!typed
      || [person.name, ...person.aliases.map((alias) => alias.name)].some((name) => fold(name).includes(typed))));
    this.options = matches.slice(0, SHOWN);
    this.active = this.options.length && typed ? 0 : -1;
    this.renderOptions(typed);
  }

  close() {
    this.listbox.hidden = true;
    this.listbox.replaceChildren();
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.options = [];
    this.active = -1;
  }

  key(event) {
    const open = !this.listbox.hidden;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) {
        this.open();
        return;
      }
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + this.options.length) % this.options.length;
      this.highlight();
    } else if (event.key === "Enter" && open && this.active >= 0) {
      event.preventDefault(); // choosing a name, not submitting the search
      this.choose(this.options[this.active].name);
    } else if (event.key === "Escape" && open) {
      event.preventDefault();
      this.close();
    }
  }

  choose(name) {
    if (!this.chosen.includes(name)) this.chosen.push(name);
    this.input.value = "";
    this.close();
    this.renderChips();
    this.onChange(this.chosen);
  }

  remove(name) {
    this.chosen = this.chosen.filter((n) => n !== name);
    this.renderChips();
    this.input.focus();
    this.onChange(this.chosen);
  }

  renderOptions(typed) {
    if (!this.options.length) {
      fill(this.listbox, h("li", { class: "no-option", role: "presentation" },
        typed ? "No speaker by that name" : "No more speakers"));
    } else {
      fill(this.listbox, this.options.map((person, i) => {
        const spellings = person.aliases.map((a) => a.name).filter((n) => n !== person.name);
        return h("li", {
          id: `speaker-option-${i}`, role: "option", class: "option", "aria-selected": "false",
          dataset: { name: person.name },
          onclick: () => this.choose(person.name),
        },
        h("span", { class: "option-name" }, person.name),
        h("span", { class: "option-detail" },
          `${person.passages} passage${person.passages === 1 ? "" : "s"}`,
          spellings.length ? ` · also written ${spellings.join(", ")}` : ""));
      }));
    }
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.highlight();
  }

  highlight() {
    [...this.listbox.querySelectorAll("[role=option]")].forEach((el, i) => {
      el.setAttribute("aria-selected", String(i === this.active));
      if (i === this.active) el.scrollIntoView({ block: "nearest" });
    });
    if (this.active >= 0) this.input.setAttribute("aria-activedescendant", `speaker-option-${this.active}`);
    else this.input.removeAttribute("aria-activedescendant");
  }

  renderChips() {
    fill(this.chips, this.chosen.map((name) => h("li", { class: "chip" },
      h("span", {}, name),
      h("button", {
        type: "button", class: "chip-remove", "aria-label": `Remove the speaker filter ${name}`,
        onclick: () => this.remove(name),
      }, "×"))));
    this.chips.hidden = !this.chosen.length;
  }
}
