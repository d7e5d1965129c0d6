// Admin pages: a paged list and a create / edit form over the JSON admin API. Every rule lives
// in the API; its 422 details are shown in plain words beside the field they name.

const root = document.getElementById("admin");
const spec = JSON.parse(root.dataset.spec);
const T = JSON.parse(root.dataset.i18n);
const $ = (id) => document.getElementById(id);
const PAGE_SIZE = 20;
let page = 1;
let editing = null; // the row being edited, or null when creating
let skillNames = [];

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    ...options,
  });
  const body = response.status === 204 ? {} : await response.json().catch(() => ({}));
  if (response.status === 401) location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
  return { ok: response.ok, status: response.status, body };
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const child of children) node.append(child);
  return node;
}

// ---- the list ------------------------------------------------------------------------------

function cell(row, column) {
  const value = row[column];
  if (column === "skills") return value.map((s) => `${s.name}:${s.level}`).join(", ");
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "boolean") return value ? "✓" : "–";
  return value === null || value === undefined ? "" : String(value);
}

async function loadList() {
  const params = new URLSearchParams({ page, page_size: PAGE_SIZE });
  const q = $("search-q").value.trim();
  if (q) params.set("q", q);
  const { ok, body } = await api(`${spec.api}?${params}`);
  const tbody = $("list").tBodies[0];
  if (!ok) {
    tbody.replaceChildren(el("tr", {}, el("td", { colspan: spec.columns.length + 1 }, body.error?.message || "")));
    return;
  }
  tbody.replaceChildren(
    ...body.items.map((row) => {
      const edit = el("button", { type: "button", "aria-label": `${T.edit} ${row.name || row.username}` }, T.edit);
      edit.addEventListener("click", () => startEdit(row));
      return el("tr", { "data-id": row.id }, ...spec.columns.map(([c]) => el("td", {}, cell(row, c))), el("td", {}, edit));
    }),
  );
  const pages = Math.max(1, Math.ceil(body.total / PAGE_SIZE));
  $("page-info").textContent = T.page_of.replace("{page}", page).replace("{pages}", pages).replace("{total}", body.total);
  $("prev-page").disabled = page <= 1;
  $("next-page").disabled = page >= pages;
}

// ---- widgets -------------------------------------------------------------------------------

function skillRow(container, name = "", level = 1) {
  const index = container.children.length + 1;
  const select = el("select", { "aria-label": `${T.skill} ${index}`, class: "skill-name" }, el("option", { value: "" }, T.choose));
  for (const skill of skillNames) select.append(el("option", { value: skill }, skill));
  select.value = name;
  const number = el("input", { type: "number", min: "1", max: "10", value: String(level), "aria-label": `${T.level} ${index}`, class: "skill-level" });
  const remove = el("button", { type: "button", "aria-label": `${T.remove} ${index}` }, T.remove);
  const row = el("div", { class: "skill-row" }, select, number, remove);
  remove.addEventListener("click", () => row.remove());
  container.append(row);
  return select;
}

async function loadOptions() {
  const needs = spec.fields.map((f) => f.kind);
  if (needs.includes("skill_map") || needs.includes("skill_list")) {
    const { ok, body } = await api("/api/v1/skills?page_size=200");
    skillNames = ok ? body.items.map((s) => s.name) : [];
  }
  if (needs.includes("user")) {
    const [users, agents] = await Promise.all([
      api("/api/v1/users?role=agent&page_size=200"),
      api("/api/v1/agents?page_size=200"),
    ]);
    const taken = new Set(agents.ok ? agents.body.items.map((a) => a.user_id) : []);
    const select = $("f-user_id");
    select.replaceChildren(el("option", { value: "" }, T.choose));
    for (const u of users.ok ? users.body.items : []) {
      if (!taken.has(u.id)) select.append(el("option", { value: u.id }, `${u.display_name} (${u.username})`));
    }
  }
}

// ---- the form ------------------------------------------------------------------------------

function fieldNode(name) {
  return root.querySelector(`.field[data-field="${name}"]`);
}

function setValue(f, value) {
  const node = fieldNode(f.name);
  if (f.kind === "checks") {
    for (const box of node.querySelectorAll("input[type=checkbox]")) box.checked = (value || []).includes(box.value);
  } else if (f.kind === "capacity") {
    for (const input of node.querySelectorAll("input[data-channel]")) input.value = value?.[input.dataset.channel] ?? "";
  } else if (f.kind === "skill_map" || f.kind === "skill_list") {
    const container = $(`f-${f.name}`);
    container.replaceChildren();
    const pairs = f.kind === "skill_map" ? Object.entries(value || {}) : (value || []).map((s) => [s.name, s.level]);
    for (const [name, level] of pairs) skillRow(container, name, level);
  } else if (f.kind === "checkbox") {
    $(`f-${f.name}`).checked = Boolean(value);
  } else if (f.kind === "json") {
    $(`f-${f.name}`).value = value && Object.keys(value).length ? JSON.stringify(value) : "";
  } else if (f.kind === "select") {
    const select = $(`f-${f.name}`);
    select.value = value ?? select.options[0]?.value ?? "";
  } else if (f.kind === "user") {
    const select = $(`f-${f.name}`);
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(el("option", { value }, editing ? `${editing.display_name} (${editing.username})` : value));
    }
    select.value = value ?? "";
  } else {
    $(`f-${f.name}`).value = value ?? "";
  }
}

function readValue(f) {
  const node = fieldNode(f.name);
  if (f.kind === "checks") return [...node.querySelectorAll("input:checked")].map((b) => b.value);
  if (f.kind === "capacity") {
    const out = {};
    for (const input of node.querySelectorAll("input[data-channel]")) if (input.value !== "") out[input.dataset.channel] = Number(input.value);
    return out;
  }
  if (f.kind === "skill_map" || f.kind === "skill_list") {
    const rows = [...node.querySelectorAll(".skill-row")]
      .map((r) => [r.querySelector(".skill-name").value, Number(r.querySelector(".skill-level").value)])
      .filter(([name]) => name);
    return f.kind === "skill_map" ? Object.fromEntries(rows) : rows.map(([skill, level]) => ({ skill, level }));
  }
  const input = $(`f-${f.name}`);
  if (f.kind === "checkbox") return input.checked;
  if (f.kind === "number") return input.value === "" ? null : Number(input.value);
  if (f.kind === "json") {
    if (input.value.trim() === "") return {};
    const parsed = JSON.parse(input.value); // a SyntaxError is shown beside the field
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new SyntaxError(T.bad_json);
    return parsed;
  }
  return input.value;
}

function clearErrors() {
  $("form-error").textContent = "";
  $("form-status").textContent = "";
  for (const p of root.querySelectorAll(".field-error")) p.replaceChildren();
  for (const n of root.querySelectorAll("[aria-invalid]")) n.removeAttribute("aria-invalid");
}

function plainWords(detail) {
  const type = detail.type || "";
  let words = "";
  if (type === "missing") words = T.missing;
  else if (type.startsWith("string_too_short") || type === "too_short") words = T.too_short;
  else if (type.startsWith("string_too_long") || type === "too_long") words = T.too_long;
  else if (/^(greater|less)_than/.test(type)) words = T.number;
  else if (type === "string_pattern_mismatch" || type.endsWith("_parsing")) words = T.format;
  else if (type === "enum" || type === "literal_error") words = T.choice;
  const message = (detail.message || "").replace(/^Value error, /, "");
  if (detail.position !== undefined) return `${T.at.replace("{pos}", detail.position + 1)}${message}`;
  return words ? `${words} (${message})` : message;
}

function showFieldError(name, text, detail = {}) {
  const node = fieldNode(name);
  const target = $(`e-${name}`);
  if (!node || !target) return false;
  target.append(el("span", {}, text));
  const input = node.querySelector("input, textarea, select");
  if (detail.position !== undefined && input?.tagName === "TEXTAREA") {
    // the expression with a caret under the character the parser stopped at
    const line = input.value.replace(/\n/g, " ");
    target.append(el("span", { class: "caret", "aria-hidden": "true" }, `${line}\n${" ".repeat(detail.position)}^`));
  }
  const invalid = node.querySelector("input, textarea, select, fieldset");
  if (invalid) invalid.setAttribute("aria-invalid", "true");
  return true;
}

function showErrors(body) {
  const error = body.error || {};
  let placed = 0;
  for (const detail of error.details || []) {
    const path = String(detail.field || "").replace(/^body\./, "");
    const name = path.split(".")[0];
    if (name && showFieldError(name, plainWords(detail), detail)) placed += 1;
  }
  $("form-error").textContent = placed ? T.fix : error.message || String(body);
  const first = root.querySelector("[aria-invalid=true]");
  if (first) first.focus();
}

function resetForm() {
  editing = null;
  clearErrors();
  $("form-title").textContent = T.creating;
  for (const f of spec.fields) {
    setValue(f, f.default ?? (f.kind === "checks" ? [] : null));
    const node = fieldNode(f.name);
    node.hidden = Boolean(f.edit_only);
    for (const n of node.querySelectorAll("input, select, textarea")) n.disabled = false;
  }
}

function startEdit(row) {
  resetForm();
  editing = row;
  $("form-title").textContent = `${T.editing}: ${row.name || row.username}`;
  for (const f of spec.fields) {
    const node = fieldNode(f.name);
    node.hidden = false;
    setValue(f, row[f.name]);
    if (f.create_only) for (const n of node.querySelectorAll("input, select, textarea")) n.disabled = true;
    if (f.kind === "password") node.hidden = true;
  }
  const first = root.querySelector("#entity-form input:not([disabled]), #entity-form select:not([disabled])");
  if (first) first.focus();
}

async function save(event) {
  event.preventDefault();
  clearErrors();
  const body = {};
  for (const f of spec.fields) {
    if (editing && f.create_only) continue;
    if (!editing && f.edit_only) continue;
    try {
      const value = readValue(f);
      if (value === null || (value === "" && !f.required && !editing)) continue;
      body[f.name] = value;
    } catch (err) {
      showFieldError(f.name, `${T.bad_json}: ${err.message}`);
    }
  }
  if (root.querySelector("[aria-invalid=true]")) {
    $("form-error").textContent = T.fix;
    return;
  }
  const { ok, body: answer } = editing
    ? await api(`${spec.api}/${editing.id}`, { method: "PATCH", body: JSON.stringify(body) })
    : await api(spec.api, { method: "POST", body: JSON.stringify(body) });
  if (!ok) {
    showErrors(answer);
    return;
  }
  const wasEditing = editing !== null;
  await loadOptions();
  if (wasEditing) startEdit(answer);
  else resetForm();
  $("form-status").textContent = `${T.saved}: ${answer.name || answer.username || answer.display_name}`;
  await loadList();
}

for (const button of root.querySelectorAll(".add-skill")) {
  button.addEventListener("click", () => skillRow($(`f-${button.dataset.for}`)).focus());
}
$("entity-form").addEventListener("submit", save);
$("cancel-button").addEventListener("click", resetForm);
$("new-button").addEventListener("click", () => {
  resetForm();
  root.querySelector("#entity-form input:not([disabled]), #entity-form select")?.focus();
});
$("search-form").addEventListener("submit", (e) => {
  e.preventDefault();
  page = 1;
  loadList();
});
$("prev-page").addEventListener("click", () => { page -= 1; loadList(); });
$("next-page").addEventListener("click", () => { page += 1; loadList(); });

await loadOptions();
resetForm();
await loadList();
