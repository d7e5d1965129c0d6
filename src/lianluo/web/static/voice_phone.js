// The agent's phone panel: ready/break, and the screen pop of the voice contact offered to
// (or handled by) this agent: caller, IVR path and the customer's 360 view. Polls
// /api/v1/routing/me/offers every second with the session cookie.

const root = document.getElementById("phone");
const msg = root.dataset;
const byId = (id) => document.getElementById(id);
let shownContact = null;

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

function text(id, value) {
  byId(id).textContent = value === null || value === undefined || value === "" ? "—" : String(value);
}

async function refreshState() {
  const el = byId("agent-state");
  if (!el) return;
  try {
    const me = await api("/api/v1/routing/me");
    el.textContent = me.state + (me.reason ? ` (${me.reason})` : "");
  } catch (err) {
    el.textContent = "—";
  }
}

async function setState(state) {
  const body = state === "break" ? { state, reason: "rest" } : { state };
  try {
    await api("/api/v1/routing/me/state", { method: "POST", body: JSON.stringify(body) });
    byId("phone-error").textContent = "";
  } catch (err) {
    byId("phone-error").textContent = `${msg.msgError}: ${err.message}`;
  }
  refreshState();
}

async function showCustomer(customerId) {
  const view = await api(`/api/v1/customers/${encodeURIComponent(customerId)}/360`);
  const c = view.customer;
  text("pop-name", c.name);
  const tier = byId("pop-tier");
  tier.textContent = c.value_tier;
  tier.className = `tier-${c.value_tier}`;
  text("pop-churn", c.churn_risk === null ? null : `${Math.round(c.churn_risk * 100)}%`);
  text("pop-tags", (c.tags || []).join(", "));
  text("pop-history", view.contacts_total);
  const list = byId("pop-recent");
  list.replaceChildren(
    ...view.timeline.slice(0, 3).map((conv) => {
      const li = document.createElement("li");
      li.textContent = `${(conv.started_at || "").slice(0, 16).replace("T", " ")} ${conv.subject || ""}`;
      return li;
    }),
  );
}

async function poll() {
  try {
    const offers = await api("/api/v1/routing/me/offers");
    const call = offers.find((o) => o.channel === "voice");
    const pop = byId("pop");
    if (!call) {
      pop.hidden = true;
      shownContact = null;
    } else {
      const labels = { offered: msg.msgOffered, connected: msg.msgConnected, wrap_up: msg.msgWrapUp };
      const ctx = call.context || {};
      byId("pop-state").textContent =
        (labels[call.state] || call.state) + (call.callback ? ` · ${msg.msgCallback}` : "");
      pop.className = `panel pop ${call.state}`;
      text("pop-caller", ctx.caller);
      text("pop-dialled", ctx.dialled);
      text("pop-path", (ctx.ivr_path || []).join(" → "));
      if (shownContact !== call.contact_id) {
        shownContact = call.contact_id;
        await showCustomer(call.customer_id);
      }
      pop.hidden = false;
    }
    byId("phone-error").textContent = "";
  } catch (err) {
    byId("phone-error").textContent = `${msg.msgError}: ${err.message}`;
  }
  refreshState();
}

for (const id of ["ready", "break"]) {
  const button = byId(id);
  if (button) button.addEventListener("click", () => setState(button.dataset.state));
}
poll();
setInterval(poll, 1000);
