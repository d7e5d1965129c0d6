// The WFM page: forecast vs actual, required vs scheduled, staffing calculator, adherence.
// Talks to /api/v1/wfm/* with the session cookie; plotly.js is a classic script loaded before.

const root = document.getElementById("wfm");
const msg = root.dataset;
let lastActivities = null;

async function api(path, options = {}) {
  const response = await fetch(path, {
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    ...options,
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error((body.error && body.error.message) || `${response.status}`);
  }
  return body;
}

function say(id, text, isError = false) {
  const el = document.getElementById(id);
  el.textContent = text;
  el.classList.toggle("error", isError);
}

const layout = (yTitle) => ({
  margin: { l: 48, r: 12, t: 8, b: 40 },
  legend: { orientation: "h", y: 1.12 },
  yaxis: { title: { text: yTitle }, rangemode: "tozero" },
  xaxis: { type: "date" },
  font: { family: "system-ui, 'PingFang SC', 'Microsoft YaHei', sans-serif", size: 12 },
});
const config = { responsive: true, displaylogo: false };

async function loadForecast() {
  const form = new FormData(document.getElementById("forecast-form"));
  const params = new URLSearchParams();
  for (const [key, value] of form) if (value !== "") params.set(key, value);
  say("forecast-meta", msg.msgLoading);
  try {
    const data = await api(`/api/v1/wfm/forecast?${params}`);
    const trace = (points, name, dash) => ({
      x: points.map((p) => p.start),
      y: points.map((p) => p.contacts),
      name,
      mode: "lines",
      line: { shape: "hv", dash },
    });
    await Plotly.react(
      "forecast-chart",
      [trace(data.actual, msg.labelActual, "solid"), trace(data.forecast, msg.labelForecast, "dot")],
      layout(msg.labelContacts),
      config,
    );
    say(
      "forecast-meta",
      `${msg.labelModel}: ${data.model} · ${msg.labelWape}: ${(data.backtest_wape * 100).toFixed(1)}%`,
    );
  } catch (err) {
    say("forecast-meta", `${msg.msgError}: ${err.message}`, true);
  }
}

async function buildSchedule() {
  const form = new FormData(document.getElementById("schedule-form"));
  const forecastForm = new FormData(document.getElementById("forecast-form"));
  const body = {
    // The shift types are whole 15- or 30-minute intervals, so 60-minute forecasts plan at 30.
    interval_min: Math.min(30, Number(forecastForm.get("interval_min"))),
    from_forecast: {
      queue_id: forecastForm.get("queue_id") || null,
      target_sl: Number(form.get("target_sl")) / 100,
      target_time_s: Number(form.get("target_time_s")),
    },
    start_step_min: 60,
    time_limit_s: 8,
    assign: true,
    team: form.get("team") || null,
  };
  say("schedule-meta", msg.msgLoading);
  try {
    const data = await api("/api/v1/wfm/schedule", { method: "POST", body: JSON.stringify(body) });
    const x = data.interval_starts;
    await Plotly.react(
      "schedule-chart",
      [
        { x, y: data.required, name: msg.labelRequired, mode: "lines", line: { shape: "hv" } },
        { x, y: data.coverage, name: msg.labelScheduled, mode: "lines", line: { shape: "hv" } },
      ],
      layout(msg.labelAgents),
      config,
    );
    lastActivities = data.activities;
    say(
      "schedule-meta",
      `${msg.labelAgents}: ${data.agents} · ${msg.labelPaidHours}: ${data.paid_hours.toFixed(1)} · ` +
        `${msg.labelGap}: ${(data.gap * 100).toFixed(1)}%`,
    );
  } catch (err) {
    lastActivities = null;
    say("schedule-meta", `${msg.msgError}: ${err.message}`, true);
  }
}

async function calculate(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = {
    contacts: Number(form.get("contacts")),
    aht_s: Number(form.get("aht_s")),
    interval_s: Number(form.get("interval_min")) * 60,
    target_sl: Number(form.get("target_sl")) / 100,
    target_time_s: Number(form.get("target_time_s")),
  };
  if (form.get("patience_s")) body.patience_s = Number(form.get("patience_s"));
  const agents = document.getElementById("staff-agents");
  agents.textContent = "…";
  try {
    const row = await api("/api/v1/wfm/staff", { method: "POST", body: JSON.stringify(body) });
    agents.textContent = String(row.agents);
    document.getElementById("staff-sl").textContent = `${(row.service_level * 100).toFixed(1)}%`;
    document.getElementById("staff-asa").textContent = row.asa === null ? "∞" : row.asa.toFixed(1);
    document.getElementById("staff-occ").textContent = `${(row.occupancy * 100).toFixed(1)}%`;
    agents.classList.remove("error");
  } catch (err) {
    agents.textContent = `${msg.msgError}: ${err.message}`;
    agents.classList.add("error");
  }
}

const pct = (value) => `${(value * 100).toFixed(1)}%`;

async function adherence(event) {
  event.preventDefault();
  if (!lastActivities) {
    say("adherence-meta", msg.msgNeedSchedule, true);
    return;
  }
  const form = new FormData(event.target);
  const params = new URLSearchParams({
    since: new Date(form.get("since")).toISOString(),
    until: new Date(form.get("until")).toISOString(),
  });
  if (form.get("team")) params.set("team", form.get("team"));
  say("adherence-meta", msg.msgLoading);
  try {
    const data = await api(`/api/v1/wfm/adherence?${params}`, {
      method: "POST",
      body: JSON.stringify({ activities: lastActivities, grace_s: 300 }),
    });
    const tbody = document.querySelector("#adherence-table tbody");
    tbody.replaceChildren();
    const rows = [...data.teams.map((r) => ({ ...r, label: `Σ ${r.label}` })), ...data.agents];
    for (const r of rows) {
      const tr = document.createElement("tr");
      for (const [text, cls] of [
        [r.label, ""],
        [r.team, ""],
        [pct(r.adherence), "num"],
        [pct(r.conformance), "num"],
        [String(r.deviations.length), "num"],
      ]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.append(td);
      }
      tbody.append(tr);
    }
    say("adherence-meta", rows.length ? "" : msg.msgNoRows);
  } catch (err) {
    say("adherence-meta", `${msg.msgError}: ${err.message}`, true);
  }
}

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

const now = new Date();
const monday = new Date(now);
monday.setHours(0, 0, 0, 0);
monday.setDate(monday.getDate() - ((monday.getDay() + 6) % 7));
document.getElementById("adh-since").value = localInput(monday);
document.getElementById("adh-until").value = localInput(now);

document.getElementById("forecast-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await loadForecast();
  await buildSchedule();
});
document.getElementById("schedule-form").addEventListener("submit", (event) => {
  event.preventDefault();
  buildSchedule();
});
document.getElementById("staff-form").addEventListener("submit", calculate);
document.getElementById("adherence-form").addEventListener("submit", adherence);

await loadForecast();
await buildSchedule();
