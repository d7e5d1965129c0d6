// Knowledge-base pages: feedback buttons on an article, the editor's save / preview /
// workflow / restore buttons. Talks to /api/v1/kb/* with the session cookie.

const root = document.getElementById("kb");
const msg = root ? root.dataset : {};

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    ...options,
  });
  const body = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((body.error && body.error.message) || `${response.status}`);
  }
  return body;
}

function say(id, text, isError = false) {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("error", isError);
}

// ---- article view: helpful / not helpful ----------------------------------------------------

const article = document.querySelector("article[data-article-id]");
for (const button of document.querySelectorAll("button[data-feedback]")) {
  button.addEventListener("click", async () => {
    try {
      const result = await api(`/api/v1/kb/articles/${article.dataset.articleId}/feedback`, {
        method: "POST",
        body: JSON.stringify({ helpful: button.dataset.feedback === "true" }),
      });
      document.getElementById("helpful-count").textContent = result.helpful_count;
      document.getElementById("not-helpful-count").textContent = result.not_helpful_count;
      say("feedback-status", msg.msgThanks);
    } catch (error) {
      say("feedback-status", `${msg.msgError}: ${error.message}`, true);
    }
  });
}

// ---- editor -----------------------------------------------------------------------------------

const editor = document.getElementById("kb-editor");
if (editor) {
  const value = (id) => document.getElementById(id).value;
  const articleId = () => editor.dataset.articleId;

  async function preview() {
    try {
      const result = await api("/api/v1/kb/render", {
        method: "POST",
        body: JSON.stringify({ body: value("kb-body") }),
      });
      document.getElementById("kb-preview").innerHTML = result.html; // escaped by the server
    } catch (error) {
      say("kb-editor-status", `${msg.msgError}: ${error.message}`, true);
    }
  }

  async function save() {
    const fields = {
      title: value("kb-title"),
      body: value("kb-body"),
      language: value("kb-language"),
      category: value("kb-category"),
      tags: value("kb-tags")
        .split(/[,，]/)
        .map((s) => s.trim())
        .filter(Boolean),
    };
    try {
      if (articleId()) {
        const note = document.getElementById("kb-note");
        await api(`/api/v1/kb/articles/${articleId()}`, {
          method: "PATCH",
          body: JSON.stringify({ ...fields, note: note ? note.value : "" }),
        });
        window.location.reload();
      } else {
        const created = await api("/api/v1/kb/articles", {
          method: "POST",
          body: JSON.stringify(fields),
        });
        window.location.assign(`/kb/articles/${created.id}/edit`);
      }
    } catch (error) {
      say("kb-editor-status", `${msg.msgError}: ${error.message}`, true);
    }
  }

  async function act(path) {
    try {
      await api(`/api/v1/kb/articles/${articleId()}/${path}`, { method: "POST" });
      window.location.reload();
    } catch (error) {
      say("kb-editor-status", `${msg.msgError}: ${error.message}`, true);
    }
  }

  document.getElementById("kb-save").addEventListener("click", save);
  document.getElementById("kb-preview-button").addEventListener("click", preview);
  let timer = null;
  document.getElementById("kb-body").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(preview, 400);
  });
  for (const button of document.querySelectorAll("button[data-action]")) {
    button.addEventListener("click", () => act(button.dataset.action));
  }
  for (const button of document.querySelectorAll("button[data-restore]")) {
    button.addEventListener("click", () => act(`versions/${button.dataset.restore}/restore`));
  }
  if (value("kb-body")) preview();
}

// ---- the tenant's synonym groups: one group a line, members split on commas or 、 -------------

const synonyms = document.getElementById("kb-synonyms-form");
if (synonyms) {
  const text = document.getElementById("kb-synonyms-text");
  synonyms.addEventListener("submit", async (event) => {
    event.preventDefault();
    const groups = text.value
      .split("\n")
      .map((line) => line.split(/[,，、;；]/).map((m) => m.trim()).filter(Boolean))
      .filter((group) => group.length);
    try {
      const saved = await api("/api/v1/kb/synonyms", { method: "PUT", body: JSON.stringify({ groups }) });
      text.value = saved.groups.map((g) => g.join("、")).join("\n");
      say("kb-synonyms-msg", msg.msgSaved);
    } catch (err) {
      say("kb-synonyms-msg", `${msg.msgError}: ${err.message}`, true);
    }
  });
}
