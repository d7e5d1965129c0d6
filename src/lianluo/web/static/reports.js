// The reports page: filters -> /api/v1/reports/historical -> two plotly charts and a table;
// a click on any figure of the table (a "—" too) lists the contacts behind it
// (/api/v1/reports/contacts?figure=...); the filters can be saved as a report e-mailed on a
// schedule (/api/v1/reports/saved) and opened again.

const root = document.getElementById("rep");
const msg = root.dataset;
const form = document.getElementById("filters");
const GROUP_PARAM = {
  queue: "queue_id", skill: "skill", agent: "agent_id", team: "team", partner: "partner_id",
  channel: "channel", region: "region",
};
const FILTERS = ["queue_id", "agent_id", "partner_id", "channel", "skill", "team", "region"];
// the columns of the table after the period and the group: [figure, how it is shown]
const COLUMNS = [
  ["offered", "count"], ["answered", "count"], ["abandoned", "count"], ["connect_rate", "pct"],
  ["service_level", "pct"], ["asa_s", "s"], ["aht_s", "s"], ["avg_talk_s", "s"], ["avg_hold_s", "s"],
  ["avg_acw_s", "s"], ["fcr", "pct"], ["effectiveness", "pct"], ["complaints", "count"],
  ["repeat_complaint_rate", "pct"], ["over_the_head_rate", "pct"], ["csat", "pct"], ["occupancy", "pct"],
];
const OCCUPANCY_GROUPS = ["agent", "team", "partner", "none"];
const CONTACT_SIDE_FILTERS = ["queue_id", "skill", "channel", "region"];
const figureLabel = (figure) =>
  (document.querySelector(`#report-table th[data-figure="${figure}"]`) || {}).textContent || figure;
const fill = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => values[k] ?? "");
const bump = (name) => { root.dataset[name] = String(Number(root.dataset[name] || 0) + 1); };

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json" },
    ...options,
  });
  if (response.status === 204) return null;
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((body.error && body.error.message) || `${response.status}`);
  return body;
}

function say(id, text, isError = false) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.classList.toggle("error", isError);
}

const pct = (v) => (v === null || v === undefined ? "—" : `${(v * 100).toFixed(1)}%`);
const num = (v, digits = 1) => (v === null || v === undefined ? "—" : Number(v).toFixed(digits));

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function filterParams() {
  const params = new URLSearchParams();
  for (const [key, value] of new FormData(document.getElementById("filters"))) {
    if (value !== "") params.set(key, value);
  }
  return params;
}

const layout = (yTitle, percent = false) => ({
  margin: { l: 52, r: 12, t: 8, b: 40 },
  legend: { orientation: "h", y: 1.15 },
  barmode: "stack",
  yaxis: { title: { text: yTitle }, rangemode: "tozero", tickformat: percent ? ".0%" : undefined },
  xaxis: { type: "date" },
  font: { family: "system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif", size: 12 },
});
const config = { responsive: true, displaylogo: false };

function drawCharts(report) {
  const byGroup = new Map();
  for (const row of report.rows) {
    const key = row.label;
    if (!byGroup.has(key)) byGroup.set(key, { x: [], offered: [], sl: [], cr: [] });
    const g = byGroup.get(key);
    g.x.push(row.start);
    g.offered.push(row.kpis.offered);
    g.sl.push(row.kpis.service_level);
    g.cr.push(row.kpis.connect_rate);
  }
  const volume = [...byGroup].map(([name, g]) => ({ type: "bar", name, x: g.x, y: g.offered }));
  const quality = [...byGroup].flatMap(([name, g]) => [
    { type: "scatter", mode: "lines+markers", name: `${name} · ${msg.labelServiceLevel}`, x: g.x, y: g.sl },
    {
      type: "scatter", mode: "lines", line: { dash: "dot" }, name: `${name} · ${msg.labelConnectRate}`,
      x: g.x, y: g.cr,
    },
  ]);
  Plotly.react("volume-chart", volume, layout(msg.labelOffered), config);
  Plotly.react("quality-chart", quality, layout(msg.labelServiceLevel, true), config);
}

function show(value, how) {
  if (how === "pct") return pct(value);
  if (how === "s") return num(value);
  return num(value, 0);
}

// Every figure is a link to the contacts behind it, a "—" too: the cell may hold contacts
// that the figure does not count (ASA of contacts that were all abandoned).
function drillLink(text, report, row, figure) {
  const link = document.createElement("a");
  link.href = "#contacts-title";
  link.textContent = text;
  link.dataset.figure = figure;
  link.addEventListener("click", (event) => {
    event.preventDefault();
    drillDown(report, row, figure);
  });
  return link;
}

function kpiCells(tr, report, row) {
  const occupancyKnown = OCCUPANCY_GROUPS.includes(report.group_by)
    && !CONTACT_SIDE_FILTERS.some((name) => report.params.get(name));
  for (const [figure, how] of COLUMNS) {
    const td = cell("", "num");
    td.append(drillLink(show(row.kpis[figure], how), report, row, figure));
    if (figure === "occupancy" && !occupancyKnown) td.title = msg.msgOccupancyAgentsOnly;
    tr.append(td);
  }
}

function drawTable(report) {
  const body = document.querySelector("#report-table tbody");
  body.replaceChildren();
  const local = (iso) => iso.slice(0, 16).replace("T", " ");
  for (const row of report.rows) {
    const tr = document.createElement("tr");
    const label = cell("");
    label.append(drillLink(row.label, report, row, "offered"));
    tr.append(cell(local(row.start)), label);
    kpiCells(tr, report, row);
    body.append(tr);
  }
  const total = document.createElement("tr");
  total.className = "total";
  const all = { start: report.since, end: report.until, key: null, label: msg.labelTotal,
    kpis: report.total, isTotal: true };
  total.append(cell(msg.labelTotal), cell(""));
  kpiCells(total, report, all);
  body.append(total);
}

function drillParams(report, row, figure) {
  const params = new URLSearchParams({ since: row.start, until: row.end, page_size: "200", figure });
  for (const name of FILTERS) if (report.params.get(name)) params.set(name, report.params.get(name));
  const groupParam = GROUP_PARAM[report.group_by];
  if (groupParam && !row.isTotal) {
    if (row.key !== null && row.key !== undefined) params.set(groupParam, row.key);
    else params.set("missing", report.group_by);
  }
  return params;
}

function drawContacts(items) {
  const body = document.querySelector("#contacts-table tbody");
  body.replaceChildren();
  for (const c of items) {
    const tr = document.createElement("tr");
    const mark = c.in_numerator === null || c.in_numerator === undefined ? "" : c.in_numerator ? "✓" : "✗";
    tr.append(
      cell(c.contact_id), cell(c.offered_at.slice(0, 19).replace("T", " ")), cell(c.channel),
      cell(c.skill || "—"), cell(c.team || "—"), cell(c.region || "—"), cell(c.outcome),
      cell(num(c.wait_s), "num"), cell(num(c.handle_s), "num"), cell(mark),
    );
    body.append(tr);
  }
}

async function drillDown(report, row, figure) {
  say("contacts-meta", msg.msgLoading);
  const where = `${row.label} · ${row.start.slice(0, 16).replace("T", " ")} · ${figureLabel(figure)}`;
  try {
    const page = await api(`/api/v1/reports/contacts?${drillParams(report, row, figure)}`);
    if (page.total === 0 && page.cell_offered > 0) {
      // a "—": none of the cell's contacts counts in the figure; show them, and say so
      const cellPage = await api(`/api/v1/reports/contacts?${drillParams(report, row, "offered")}`);
      drawContacts(cellPage.items);
      say("contacts-meta", `${where} · ${fill(msg.msgDrillNoneCounted, { figure: figureLabel(figure), n: page.cell_offered })}`);
    } else if (page.total === 0) {
      drawContacts([]);
      say("contacts-meta", `${where} · ${msg.msgDrillEmpty}`);
    } else {
      drawContacts(page.items);
      say("contacts-meta", `${where}: ${page.total}`);
    }
    root.dataset.drilled = figure;
    bump("drills");
  } catch (error) {
    say("contacts-meta", `${msg.msgError}: ${error.message}`, true);
  }
}

async function load() {
  const params = filterParams();
  document.getElementById("dl-csv").href = `/api/v1/reports/historical/export?${params}&format=csv`;
  document.getElementById("dl-xlsx").href = `/api/v1/reports/historical/export?${params}&format=xlsx`;
  say("meta", msg.msgLoading);
  try {
    const report = await api(`/api/v1/reports/historical?${params}`);
    report.params = params;  // the drill-down asks with the filters the report was run with
    drawCharts(report);
    drawTable(report);
    say(
      "meta",
      report.rows.length
        ? `${report.rows.length} · ${msg.labelOffered} ${report.total.offered} · ${msg.labelServiceLevel} ${pct(report.total.service_level)} · ${report.timezone}`
        : msg.msgNoRows,
    );
    bump("loaded");
  } catch (error) {
    say("meta", `${msg.msgError}: ${error.message}`, true);
  }
}

// ---- saved reports: the filters and grouping of the page, e-mailed on a schedule ----------

const DAY_MS = 86_400_000;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
const dayMs = (iso) => Date.parse(`${iso}T00:00:00Z`);

function describe(saved) {
  const parts = [msg[`group${saved.group_by[0].toUpperCase()}${saved.group_by.slice(1)}`] || saved.group_by,
    saved.grain, fill(msg.labelDays, { n: saved.days }), msg[`every${saved.every[0].toUpperCase()}${saved.every.slice(1)}`] || saved.every];
  for (const name of FILTERS) {
    if (saved[name] === null || saved[name] === undefined) continue;
    const option = form.querySelector(`#${name} option[value="${CSS.escape(saved[name])}"]`);
    parts.push(option ? option.textContent : saved[name]);
  }
  return parts.join(" · ");
}

function openSaved(saved) {
  form.elements.grain.value = saved.grain;
  form.elements.group_by.value = saved.group_by;
  for (const name of FILTERS) {
    const select = form.elements[name];
    const value = saved[name] ?? "";
    if (value && ![...select.options].some((o) => o.value === value)) {
      select.append(new Option(value, value));  // gone from the lists since: keep it visible
    }
    select.value = value;
  }
  // the e-mail covers the last `days` whole days before today
  const last = dayMs(msg.today) - DAY_MS;
  form.elements.date_to.value = isoDay(last);
  form.elements.date_from.value = isoDay(last - (saved.days - 1) * DAY_MS);
  root.dataset.opened = saved.id;
  load();
}

async function loadSaved() {
  const list = document.getElementById("saved-list");
  try {
    const page = await api("/api/v1/reports/saved?page_size=200");
    list.replaceChildren();
    for (const saved of page.items) {
      const li = document.createElement("li");
      const name = document.createElement("strong");
      name.textContent = saved.name;
      const what = document.createElement("span");
      what.className = "what";
      what.textContent = describe(saved);
      const open = document.createElement("button");
      open.type = "button";
      open.textContent = msg.labelOpen;
      open.addEventListener("click", () => openSaved(saved));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = msg.labelDelete;
      remove.addEventListener("click", async () => {
        try {
          await api(`/api/v1/reports/saved/${encodeURIComponent(saved.id)}`, { method: "DELETE" });
          loadSaved();
        } catch (error) {
          say("saved-meta", `${msg.msgError}: ${error.message}`, true);
        }
      });
      li.append(name, what, open, remove);
      li.dataset.id = saved.id;
      list.append(li);
    }
    if (!page.items.length) say("saved-meta", msg.msgSavedNone);
    bump("savedLoaded");
  } catch (error) {
    say("saved-meta", `${msg.msgError}: ${error.message}`, true);
  }
}

async function saveCurrent() {
  const saving = new FormData(document.getElementById("saved-form"));
  const filters = filterParams();
  const from = dayMs(filters.get("date_from"));
  const to = dayMs(filters.get("date_to"));
  const body = {
    name: saving.get("name"),
    recipients: String(saving.get("recipients")).split(/[,;\s]+/).filter(Boolean),
    every: saving.get("every"),
    format: saving.get("format"),
    grain: filters.get("grain"),
    group_by: filters.get("group_by"),
    days: Number.isFinite(to - from) ? Math.round((to - from) / DAY_MS) + 1 : 7,
  };
  for (const name of FILTERS) if (filters.get(name)) body[name] = filters.get(name);
  try {
    const saved = await api("/api/v1/reports/saved", { method: "POST", body: JSON.stringify(body) });
    say("saved-meta", `${msg.msgSavedDone}: ${saved.name}`);
    await loadSaved();
  } catch (error) {
    say("saved-meta", `${msg.msgError}: ${error.message}`, true);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
for (const el of form.querySelectorAll("select")) el.addEventListener("change", load);
document.getElementById("saved-form").addEventListener("submit", (event) => {
  event.preventDefault();
  saveCurrent();
});
load();
loadSaved();
