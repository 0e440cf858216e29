// The API key, asked for once and kept for this browser tab only (sessionStorage): it is never written
// where another tab, or a later visit, could read it.
const STORAGE = "transcript-search.api-key";

export function storedKey() {
  try {
    return sessionStorage.getItem(STORAGE);
  } catch {
    return null;
  }
}

export function forgetKey() {
  sessionStorage.removeItem(STORAGE);
  showForget();
}

let pending = null; // one prompt, however many calls are waiting for it

/** Ask for a key in the dialog; resolves to the key, or null when the person cancels. */
export function askForKey(problem) {
  if (pending) return pending;
  const dialog = document.getElementById("key-dialog");
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  const error = document.getElementById("key-error");
  error.hidden = !problem;
  error.textContent = problem || "";
  input.value = "";
  pending = new Promise((resolve) => {
    const finish = (key) => {
      form.removeEventListener("submit", onSubmit);
      cancel.removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      pending = null;
      resolve(key);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      if (/[\x00-\x1f\x7f]/.test(key)) { // it could not be sent in a header
        error.textContent = "A key has no line breaks or control characters. Paste it again.";
        error.hidden = false;
        return;
      }
      sessionStorage.setItem(STORAGE, key);
      showForget();
      finish(key);
    };
    const onCancel = (event) => {
      event.preventDefault();
      finish(null);
    };
    const cancel = document.getElementById("key-cancel");
    form.addEventListener("submit", onSubmit);
    cancel.addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    input.focus();
  });
  return pending;
}

function showForget() {
  const button = document.getElementById("forget-key");
  if (button) button.hidden = !storedKey();
}

document.getElementById("forget-key")?.addEventListener("click", () => {
  forgetKey();
  location.reload();
});
showForget();
