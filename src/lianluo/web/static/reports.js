// The reports page: filters -> /api/v1/reports/historical -> two plotly charts and a table;
// a click on an Offered count lists the contacts behind it (/api/v1/reports/contacts).

const root = document.getElementById("rep");
const msg = root.dataset;
const GROUP_PARAM = {
  queue: "queue_id", skill: "skill", agent: "agent_id", team: "team", partner: "partner_id",
  channel: "channel", region: "region",
};
const FILTERS = ["queue_id", "channel", "skill", "team", "region"];

async function api(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
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

function kpiCells(tr, k) {
  tr.append(
    cell(num(k.answered, 0), "num"), cell(num(k.abandoned, 0), "num"),
    cell(pct(k.connect_rate), "num"), cell(pct(k.service_level), "num"),
    cell(num(k.asa_s), "num"), cell(num(k.aht_s), "num"), cell(pct(k.fcr), "num"),
    cell(pct(k.effectiveness), "num"), cell(pct(k.csat), "num"), cell(pct(k.occupancy), "num"),
  );
}

function drawTable(report) {
  const body = document.querySelector("#report-table tbody");
  body.replaceChildren();
  const local = (iso) => iso.slice(0, 16).replace("T", " ");
  for (const row of report.rows) {
    const tr = document.createElement("tr");
    tr.append(cell(local(row.start)), cell(row.label));
    const offered = document.createElement("td");
    offered.className = "num";
    const link = document.createElement("a");
    link.href = "#contacts-title";
    link.textContent = row.kpis.offered;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      drillDown(report, row);
    });
    offered.append(link);
    tr.append(offered);
    kpiCells(tr, row.kpis);
    body.append(tr);
  }
  const total = document.createElement("tr");
  total.className = "total";
  total.append(cell(msg.labelTotal), cell(""), cell(num(report.total.offered, 0), "num"));
  kpiCells(total, report.total);
  body.append(total);
}

async function drillDown(report, row) {
  const params = new URLSearchParams({ since: row.start, until: row.end, page_size: "200" });
  const filters = filterParams();
  for (const name of FILTERS) if (filters.get(name)) params.set(name, filters.get(name));
  const groupParam = GROUP_PARAM[report.group_by];
  if (groupParam && row.key) params.set(groupParam, row.key);
  say("contacts-meta", msg.msgLoading);
  try {
    const page = await api(`/api/v1/reports/contacts?${params}`);
    const body = document.querySelector("#contacts-table tbody");
    body.replaceChildren();
    for (const c of page.items) {
      const tr = document.createElement("tr");
      tr.append(
        cell(c.contact_id), cell(c.offered_at.slice(0, 19).replace("T", " ")), cell(c.channel),
        cell(c.skill || "—"), cell(c.team || "—"), cell(c.region || "—"), cell(c.outcome), cell(num(c.wait_s), "num"), cell(num(c.handle_s), "num"),
      );
      body.append(tr);
    }
    say("contacts-meta", `${row.label} · ${row.start.slice(0, 16)} · ${page.total}`);
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
    drawCharts(report);
    drawTable(report);
    say(
      "meta",
      report.rows.length
        ? `${report.rows.length} · ${msg.labelOffered} ${report.total.offered} · ${msg.labelServiceLevel} ${pct(report.total.service_level)} · ${report.timezone}`
        : msg.msgNoRows,
    );
    root.dataset.loaded = String(Number(root.dataset.loaded || 0) + 1);
  } catch (error) {
    say("meta", `${msg.msgError}: ${error.message}`, true);
  }
}

const form = document.getElementById("filters");
form.addEventListener("submit", (event) => {
  event.preventDefault();
  load();
});
for (const el of form.querySelectorAll("select")) el.addEventListener("change", load);
load();
