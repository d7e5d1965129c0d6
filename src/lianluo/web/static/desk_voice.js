// The desk's call panel: the screen pop of a ringing voice call (caller, IVR path, the
// customer's 360 view) with its Answer button, then hold / resume, blind and consultative
// transfer and hang up as "call" frames on the desk's socket (desk.js), and the wrap-up form.
// Refreshed whenever the socket says the agent's work changed (the SIP worker's events reach
// this server through Redis or NATS), and by a slow poll where they do not.

const S = JSON.parse(document.getElementById("desk-strings").textContent);
const t = (k) => S[k] || k;
const $ = (id) => document.getElementById(id);
let shown = null; // the call on screen
let customerShown = null;
let setup = null;

async function api(method, path, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error((data.error && data.error.message) || `HTTP ${response.status}`);
  return data;
}

function text(id, value) {
  $(id).textContent = value === null || value === undefined || value === "" ? "—" : String(value);
}

function fail(err) {
  $("desk-error").textContent = `${t("chat_error")}: ${err.message}`;
}

function fill(select, items, empty = true) {
  const options = items.map(([value, label]) => new Option(label, value));
  select.replaceChildren(...(empty ? [new Option("—", "")] : []), ...options);
}

async function loadSetup() {
  if (setup) return setup;
  setup = await api("GET", "/api/v1/chat/desk/setup");
  fill($("call-agent"), setup.agents.map((a) => [a.id, a.name]));
  fill($("call-queue"), setup.queues.map((q) => [q.id, q.name]));
  fill($("call-disposition"), setup.dispositions.map((d) => [d, d]), false);
  return setup;
}

async function showCustomer(customerId) {
  const view = await api("GET", `/api/v1/customers/${encodeURIComponent(customerId)}/360`);
  const c = view.customer;
  text("call-name", c.name);
  text("call-tier", c.value_tier);
  text("call-churn", c.churn_risk === null ? null : `${Math.round(c.churn_risk * 100)}%`);
  text("call-tags", (c.tags || []).join(", "));
  text("call-history", view.contacts_total);
  $("call-recent").replaceChildren(
    ...view.timeline.slice(0, 3).map((conv) => {
      const li = document.createElement("li");
      li.textContent = `${(conv.started_at || "").slice(0, 16).replace("T", " ")} ${conv.subject || ""}`;
      return li;
    }),
  );
}

function stateLabel(call) {
  if (call.state === "connected" && call.consult_agent_id) return t("desk_call_consulting");
  if (call.state === "connected" && call.hold) return t("desk_call_on_hold");
  return t(`desk_call_${call.state}`);
}

// one refresh at a time; a request for another while one runs makes one more afterwards, so
// a burst of frames costs two fetches and the last state always wins
let refreshing = null;
let refreshAgain = false;
function refresh() {
  if (refreshing) {
    refreshAgain = true;
    return refreshing;
  }
  refreshing = (async () => {
    do {
      refreshAgain = false;
      await render();
    } while (refreshAgain);
  })().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function render() {
  let page;
  try {
    page = await api("GET", "/api/v1/voice/desk");
  } catch (err) {
    fail(err);
    return;
  }
  const call = page.items[0] || null;
  const panel = $("call");
  if (!call) {
    panel.hidden = true;
    shown = null;
    customerShown = null;
    return;
  }
  shown = call;
  panel.dataset.state = call.state;
  text("call-state", stateLabel(call));
  text("call-caller", call.caller);
  text("call-dialled", call.dialled);
  text("call-path", call.ivr_path.join(" → "));
  const ringing = call.state === "offered";
  const note = $("call-note");
  note.hidden = !ringing && !call.transfer_note;
  if (ringing) note.textContent = t(call.answering ? "desk_call_answering" : "desk_call_answer_phone");
  else note.textContent = call.transfer_note;
  $("call-ringing").hidden = !ringing || call.answering;
  $("call-answer").disabled = false;
  const connected = call.state === "connected";
  $("call-controls").hidden = !connected;
  $("call-transfer").hidden = !connected;
  $("call-hold").hidden = call.hold;
  $("call-resume").hidden = !call.hold;
  $("call-consult").hidden = Boolean(call.consult_agent_id);
  $("call-blind").hidden = Boolean(call.consult_agent_id);
  $("call-complete").hidden = !call.consult_agent_id;
  $("call-cancel").hidden = !call.consult_agent_id;
  $("call-wrap").hidden = call.state !== "wrap_up";
  panel.hidden = false;
  if (customerShown !== call.contact_id) {
    customerShown = call.contact_id;
    try {
      await showCustomer(call.customer_id);
    } catch (err) {
      fail(err);
    }
  }
  if (connected || call.state === "wrap_up") loadSetup().catch(fail);
}

function command(action, extra = {}) {
  if (!shown) return;
  window.lianluoDeskSend({ type: "call", action, contact_id: shown.contact_id, ...extra });
}

$("call-answer").addEventListener("click", () => {
  $("call-answer").disabled = true; // until the server says what became of it
  command("answer");
});
$("call-hold").addEventListener("click", () => command("hold"));
$("call-resume").addEventListener("click", () => command("resume"));
$("call-hangup").addEventListener("click", () => command("hangup"));
$("call-transfer").addEventListener("submit", (event) => {
  event.preventDefault();
  const extra = {};
  if ($("call-agent").value) extra.to_agent_id = $("call-agent").value;
  if ($("call-queue").value) extra.to_queue_id = $("call-queue").value;
  command("transfer", extra);
});
$("call-consult").addEventListener("click", () => {
  if ($("call-agent").value) command("consult", { to_agent_id: $("call-agent").value });
});
$("call-complete").addEventListener("click", () => command("transfer"));
$("call-cancel").addEventListener("click", () => command("cancel_consult"));
$("call-wrap").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!shown) return;
  try {
    await api("POST", `/api/v1/contacts/${encodeURIComponent(shown.contact_id)}/wrap-up`, {
      disposition: $("call-disposition").value,
      notes: $("call-notes").value,
    });
    await refresh();
  } catch (err) {
    fail(err);
  }
});

document.addEventListener("lianluo-desk-frame", (event) => {
  const frame = event.detail;
  if (frame.type === "desk" || frame.type === "call_ok" || frame.type === "error") refresh();
});
refresh();
// The SIP worker may route in another process whose events this server does not hear: a slow
// poll keeps the screen pop within a second and a half of the phone starting to ring.
setInterval(refresh, 1500);
