// The wallboard: every figure arrives over the WebSocket /ws/wall (pushed on each change);
// times in state and longest waits tick here between pushes. plotly.js is loaded before.

const root = document.getElementById("wall");
const T = JSON.parse(root.dataset.i18n);
const $ = (id) => document.getElementById(id);
let last = null;
let clockOffsetMs = 0; // server clock - browser clock
let retryMs = 500;

const pct = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(0)}%`);
const secs = (v) => (v === null || v === undefined ? "–" : `${Math.round(v)}s`);
const serverNow = () => (Date.now() + clockOffsetMs) / 1000;

function duration(s) {
  if (s === null || s === undefined) return "–";
  s = Math.max(0, Math.floor(s));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n) => String(n).padStart(2, "0");
  return h ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) node.append(child);
  return node;
}

function figure(label, value, attrs = {}) {
  return el("div", attrs, el("dt", {}, label), el("dd", {}, value));
}

function renderTotals(t) {
  $("totals").replaceChildren(
    figure(T.waiting, String(t.waiting), { "data-figure": "waiting" }),
    figure(T.offered, String(t.offered), { "data-figure": "offered" }),
    figure(T.answered, String(t.answered), { "data-figure": "answered" }),
    figure(T.handled, String(t.handled), { "data-figure": "handled" }),
    figure(T.abandoned, String(t.abandoned), { "data-figure": "abandoned" }),
    figure(T.sl, pct(t.service_level), { "data-figure": "service_level" }),
    figure(T.asa, secs(t.asa_s)),
    figure(T.aht, secs(t.aht_s)),
  );
}

function renderQueues(queues) {
  const tiles = queues.map((q) => {
    const tile = el("article", {
      class: `tile sl-${q.sl_status}`,
      "data-queue": q.queue_id,
      "aria-label": q.name,
    });
    tile.append(
      el("h3", {}, q.name),
      el(
        "div",
        { class: "big" },
        el("span", {}, el("strong", { "data-figure": "waiting" }, String(q.waiting)), ` ${T.waiting}`),
        el("span", { class: "sl" }, el("strong", { "data-figure": "service_level" }, pct(q.service_level)),
          ` ${T.sl} (${T.target} ${pct(q.sl_target_ratio)}/${q.sl_target_s}s)`),
      ),
      el(
        "dl",
        {},
        figure(T.longest, duration(q.longest_wait_s), { "data-figure": "longest", "data-since": q.oldest_waiting_since ?? "" }),
        figure(T.answered, String(q.answered), { "data-figure": "answered" }),
        figure(T.abandoned, String(q.abandoned), { "data-figure": "abandoned" }),
        figure(T.handled, String(q.handled), { "data-figure": "handled" }),
        figure(T.asa, secs(q.asa_s)),
        figure(T.aht, secs(q.aht_s)),
        figure(T.offered, String(q.offered), { "data-figure": "offered" }),
        figure(T.ringing, String(q.ringing)),
        figure(T.connected, String(q.connected)),
      ),
    );
    return tile;
  });
  $("queue-tiles").replaceChildren(...(tiles.length ? tiles : [el("p", {}, T.no_queues)]));
}

function renderStates(byState) {
  $("agent-states").replaceChildren(
    ...Object.entries(byState).map(([state, n]) =>
      el("li", { class: `st-${state}`, "data-state": state }, T[`state_${state}`] || state, el("strong", {}, String(n))),
    ),
  );
}

function renderAgents(agents) {
  const rows = agents.map((a) => {
    const state = (T[`state_${a.state}`] || a.state) + (a.reason ? ` · ${a.reason}` : "");
    const work = a.work.map((w) => `${w.channel} ${T[`contact_${w.state}`] || w.state}`).join(", ");
    return el(
      "tr",
      { "data-agent": a.agent_id },
      el("td", {}, a.name),
      el("td", {}, a.team || ""),
      el("td", {}, el("span", { class: `state st-${a.state}` }, state)),
      el("td", { class: "num", "data-since": String(a.since) }, duration(serverNow() - a.since)),
      el("td", {}, work),
    );
  });
  $("agents-table").tBodies[0].replaceChildren(
    ...(rows.length ? rows : [el("tr", {}, el("td", { colspan: "5" }, T.no_agents))]),
  );
}

function renderChartChoices(queues) {
  const select = $("chart-queue");
  const chosen = select.value;
  const options = [el("option", { value: "" }, T.all)];
  for (const q of queues) options.push(el("option", { value: q.queue_id }, q.name));
  select.replaceChildren(...options);
  select.value = queues.some((q) => q.queue_id === chosen) ? chosen : "";
}

function renderChart() {
  if (!last || typeof Plotly === "undefined") return;
  const chosen = $("chart-queue").value;
  const queue = last.queues.find((q) => q.queue_id === chosen);
  const series = (queue || last.totals).intervals;
  const step = last.interval_s * 1000;
  const x = series.map((p) => new Date(p.start * 1000 + step / 2));
  const range = [new Date(last.now * 1000 - 6 * 3600 * 1000), new Date(last.now * 1000 + step)];
  Plotly.react(
    "wall-chart",
    [
      { x, y: series.map((p) => p.offered), name: T.offered, type: "bar", width: step * 0.4 },
      { x, y: series.map((p) => p.answered), name: T.answered, type: "bar", width: step * 0.4 },
      {
        x,
        y: series.map((p) => (p.service_level === null ? null : p.service_level * 100)),
        name: `${T.sl} %`,
        yaxis: "y2",
        mode: "lines+markers",
      },
    ],
    {
      margin: { l: 40, r: 40, t: 8, b: 36 },
      barmode: "group",
      legend: { orientation: "h", y: 1.15 },
      xaxis: { type: "date", range },
      yaxis: { rangemode: "tozero" },
      yaxis2: { overlaying: "y", side: "right", range: [0, 100] },
      font: { family: "system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif", size: 12 },
    },
    { responsive: true, displaylogo: false },
  );
}

function render(data) {
  last = data;
  clockOffsetMs = data.now * 1000 - Date.now();
  renderTotals(data.totals);
  renderQueues(data.queues);
  renderStates(data.agents_by_state);
  renderAgents(data.agents);
  renderChartChoices(data.queues);
  renderChart();
}

function tick() {
  const now = serverNow();
  $("wall-clock").textContent = new Date(now * 1000).toLocaleTimeString(root.dataset.lang === "zh" ? "zh-CN" : "en-GB");
  for (const node of document.querySelectorAll("[data-since]")) {
    if (node.dataset.since === "") continue;
    const target = node.tagName === "DIV" ? node.querySelector("dd") : node;
    target.textContent = duration(now - Number(node.dataset.since));
  }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}/ws/wall`);
  socket.addEventListener("open", () => {
    retryMs = 500;
  });
  socket.addEventListener("message", (message) => {
    const body = JSON.parse(message.data);
    if (body.type === "snapshot") {
      render(body.data);
      $("wall-status").textContent = T.live;
      $("wall-status").classList.remove("offline");
    }
  });
  socket.addEventListener("close", (event) => {
    if (event.code === 1008) {
      location.href = "/login?next=/wall";
      return;
    }
    $("wall-status").textContent = T.offline;
    $("wall-status").classList.add("offline");
    setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, 15000);
  });
}

$("chart-queue").addEventListener("change", renderChart);
setInterval(tick, 1000);
connect();
