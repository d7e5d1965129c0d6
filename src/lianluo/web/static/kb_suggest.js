// Knowledge-base suggestions for the agent desktop.
//
//   import { renderSuggestions } from "/static/kb_suggest.js";
//   await renderSuggestions(document.getElementById("kb-panel"), conversationText);
//   await renderSuggestions(panel, null, { conversationId: "…", limit: 3, language: "zh" });
//
// Calls POST /api/v1/kb/suggest with the session cookie (or options.headers) and renders a list
// of links to /kb/articles/{id} with the highlighted snippet. Returns the API's items.
// The snippet HTML is escaped by the server; only <mark> tags come through.

const LABELS = {
  zh: { title: "推荐文章", none: "暂无推荐", error: "推荐失败" },
  en: { title: "Suggested articles", none: "No suggestions", error: "Suggestions failed" },
};

export async function fetchSuggestions(text, options = {}) {
  const body = { limit: options.limit || 5 };
  if (options.conversationId) body.conversation_id = options.conversationId;
  else body.text = (text || "").slice(-20000);
  if (options.language) body.language = options.language;
  const response = await fetch("/api/v1/kb/suggest", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...(options.headers || {}) },
    body: JSON.stringify(body),
  });
  const result = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((result.error && result.error.message) || `${response.status}`);
  }
  return result.items;
}

export async function renderSuggestions(container, text, options = {}) {
  const lang = options.uiLanguage || (document.documentElement.lang === "en" ? "en" : "zh");
  const labels = LABELS[lang];
  const heading = document.createElement("h3");
  heading.textContent = labels.title;
  const list = document.createElement("ol");
  list.className = "kb-suggestions";
  let items = [];
  try {
    if (options.conversationId || (text && text.trim())) {
      items = await fetchSuggestions(text, options);
    }
    for (const item of items) {
      const li = document.createElement("li");
      li.dataset.articleId = item.article_id;
      li.dataset.score = item.score;
      const link = document.createElement("a");
      link.href = `/kb/articles/${item.article_id}`;
      link.target = options.target || "_blank";
      link.rel = "noopener";
      link.innerHTML = item.title_html;
      const snippet = document.createElement("p");
      snippet.className = "kb-snippet";
      snippet.innerHTML = item.snippet_html;
      li.append(link, snippet);
      list.append(li);
    }
    if (!items.length) {
      const li = document.createElement("li");
      li.className = "kb-none";
      li.textContent = labels.none;
      list.append(li);
    }
  } catch (error) {
    const li = document.createElement("li");
    li.className = "kb-error";
    li.textContent = `${labels.error}: ${error.message}`;
    list.append(li);
  }
  container.replaceChildren(heading, list);
  return items;
}
