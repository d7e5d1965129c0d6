/* Lianluo chat widget. Embed with
 *   <script src="https://HOST/widget.js" data-tenant="SLUG" data-queue="QUEUE_ID" data-lang="zh"></script>
 * Vanilla JS, no build step, nothing fetched but from HOST. The conversation token and the
 * messages not yet acknowledged live in localStorage, so a reload loses and repeats nothing:
 * the server replays every message after the highest number we have (here: all, after a
 * reload) and answers a resent client id with the stored message. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) return;
  var base = new URL(script.src, location.href);
  var origin = base.origin;
  var tenant = script.getAttribute("data-tenant") || "";
  var queueId = script.getAttribute("data-queue") || "";
  var lang = script.getAttribute("data-lang") || ((navigator.language || "zh").slice(0, 2) === "en" ? "en" : "zh");
  var storeKey = "lianluo-chat:" + tenant + ":" + queueId;
  var S = {};                       // strings from the server (web/i18n.py)
  var state = load() || {};         // {token, conversation_id, pending: {id: body}, open}
  state.pending = state.pending || {};
  var ws = null, retry = 0, seen = {}, lastSeq = 0, typingTimer = null, typingSent = 0;
  var chatState = "", rated = false;

  function load() { try { return JSON.parse(localStorage.getItem(storeKey) || "null"); } catch (e) { return null; } }
  function save() { try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ } }
  function t(key) { return S[key] || key; }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text != null) node.textContent = text;
    return node;
  }
  function newId() {
    var a = new Uint8Array(8);
    (window.crypto || window.msCrypto).getRandomValues(a);
    return "w" + Date.now().toString(36) + "-" + Array.prototype.map.call(a, function (b) { return b.toString(16); }).join("");
  }

  var css = "" +
    "#llw-launch{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;background:#0b6bcb;color:#fff;font:600 15px system-ui,sans-serif;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.3)}" +
    "#llw-launch:focus-visible,#llw-panel :focus-visible{outline:3px solid #f5a524;outline-offset:2px}" +
    "#llw-panel{position:fixed;right:16px;bottom:72px;z-index:2147483000;width:360px;max-width:calc(100vw - 16px);height:520px;max-height:calc(100vh - 88px);display:flex;flex-direction:column;background:#fff;color:#1d1d1f;border-radius:12px;box-shadow:0 6px 24px rgba(0,0,0,.3);font:14px/1.45 system-ui,'Noto Sans CJK SC',sans-serif;overflow:hidden}" +
    "#llw-panel[hidden]{display:none}" +
    "#llw-panel header{display:flex;align-items:center;justify-content:space-between;padding:10px 12px;background:#0b6bcb;color:#fff}" +
    "#llw-panel header h2{margin:0;font-size:16px}" +
    "#llw-panel header button{background:transparent;border:1px solid #fff;color:#fff;border-radius:6px;padding:4px 8px;cursor:pointer}" +
    "#llw-body{flex:1;overflow:auto;padding:10px 12px}" +
    "#llw-panel form label{display:block;margin:8px 0 2px;font-weight:600}" +
    "#llw-panel input,#llw-panel textarea{box-sizing:border-box;width:100%;padding:8px;border:1px solid #8a8a8e;border-radius:6px;font:inherit}" +
    "#llw-panel .llw-btn{margin-top:10px;border:0;border-radius:6px;padding:9px 14px;background:#0b6bcb;color:#fff;font:600 14px system-ui,sans-serif;cursor:pointer}" +
    "#llw-panel .llw-btn.llw-secondary{background:#e8e8ed;color:#1d1d1f}" +
    "#llw-status{padding:6px 12px;background:#eef4fb;border-bottom:1px solid #d0d7e2;font-size:13px}" +
    "#llw-log{list-style:none;margin:0;padding:0}" +
    "#llw-log li{margin:6px 0;max-width:85%;padding:7px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}" +
    "#llw-log li.llw-customer{margin-left:auto;background:#0b6bcb;color:#fff}" +
    "#llw-log li.llw-agent{background:#f0f0f3}" +
    "#llw-log li.llw-pending{opacity:.6}" +
    "#llw-typing{min-height:18px;padding:0 12px;color:#555;font-size:12px}" +
    "#llw-compose{display:flex;gap:6px;padding:8px 12px;border-top:1px solid #ddd}" +
    "#llw-compose[hidden],#llw-tools form[hidden]{display:none}" +
    "#llw-compose textarea{height:40px;resize:none}" +
    "#llw-compose .llw-btn{margin:0}" +
    ".llw-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
    "#llw-panel fieldset{border:1px solid #ccc;border-radius:6px;margin:8px 0}" +
    "#llw-panel .llw-stars label{display:inline;font-weight:400;margin-right:8px}" +
    "#llw-panel .llw-stars input{width:auto}" +
    "#llw-tools{padding:0 12px 8px;display:flex;gap:6px;flex-wrap:wrap}" +
    "#llw-tools .llw-btn{margin:0;padding:6px 10px;font-size:13px}";

  var launch, panel, body, statusBar, log, typingLine, compose, input, tools;

  function build() {
    var style = el("style");
    style.textContent = css;
    document.head.appendChild(style);
    launch = el("button", { id: "llw-launch", type: "button", "aria-expanded": "false", "aria-controls": "llw-panel" }, t("chat_open"));
    panel = el("section", { id: "llw-panel", role: "dialog", "aria-label": t("chat_title") });
    panel.hidden = true;
    var head = el("header");
    head.appendChild(el("h2", {}, t("chat_title")));
    var close = el("button", { type: "button", id: "llw-close" }, t("chat_close"));
    head.appendChild(close);
    statusBar = el("div", { id: "llw-status", role: "status", "aria-live": "polite" });
    body = el("div", { id: "llw-body" });
    typingLine = el("div", { id: "llw-typing", "aria-live": "polite" });
    tools = el("div", { id: "llw-tools" });
    compose = el("form", { id: "llw-compose" });
    var lab = el("label", { for: "llw-input", class: "llw-sr" }, t("chat_message"));
    input = el("textarea", { id: "llw-input", rows: "2", maxlength: "4000" });
    var send = el("button", { type: "submit", class: "llw-btn" }, t("chat_send"));
    compose.appendChild(lab); compose.appendChild(input); compose.appendChild(send);
    panel.appendChild(head); panel.appendChild(statusBar); panel.appendChild(body);
    panel.appendChild(typingLine); panel.appendChild(tools); panel.appendChild(compose);
    document.body.appendChild(launch); document.body.appendChild(panel);
    launch.addEventListener("click", function () { toggle(panel.hidden); });
    close.addEventListener("click", function () { toggle(false); launch.focus(); });
    panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { toggle(false); launch.focus(); } });
    compose.addEventListener("submit", function (e) { e.preventDefault(); sendMessage(); });
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); sendMessage(); }
    });
    input.addEventListener("input", typing);
    if (state.open) toggle(true);
  }

  function toggle(open) {
    panel.hidden = !open;
    launch.setAttribute("aria-expanded", open ? "true" : "false");
    state.open = open; save();
    if (!open) return;
    if (state.token) { showChat(); connect(); } else { showForm(); }
  }

  function showForm() {
    compose.hidden = true; tools.innerHTML = ""; statusBar.textContent = "";
    body.innerHTML = "";
    var form = el("form", { id: "llw-prechat", novalidate: "" });
    form.appendChild(el("p", {}, t("chat_intro")));
    [["name", "chat_name", "text", "name"], ["phone", "chat_phone", "tel", "tel"], ["email", "chat_email", "email", "email"]].forEach(function (f) {
      form.appendChild(el("label", { for: "llw-" + f[0] }, t(f[1])));
      var attrs = { id: "llw-" + f[0], name: f[0], type: f[2], autocomplete: f[3] };
      if (f[0] === "name") attrs.required = "";
      form.appendChild(el("input", attrs));
    });
    var err = el("p", { id: "llw-form-error", role: "alert" });
    form.appendChild(err);
    form.appendChild(el("button", { type: "submit", class: "llw-btn" }, t("chat_start")));
    body.appendChild(form);
    form.querySelector("input").focus();
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var name = form.name.value.trim(), phone = form.phone.value.trim(), email = form.email.value.trim();
      if (!name || (!phone && !email)) { err.textContent = !name ? t("chat_name") + "?" : t("chat_phone_or_email"); return; }
      var payload = { tenant: tenant, queue_id: queueId, name: name, language: lang };
      if (phone) payload.phone = phone;
      if (email) payload.email = email;
      fetch(origin + "/api/v1/chat/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(payload) })
        .then(function (r) { return r.json().then(function (j) { return [r.ok, j]; }); })
        .then(function (res) {
          if (!res[0]) { err.textContent = (res[1].error && res[1].error.message) || t("chat_error"); return; }
          state.token = res[1].token; state.conversation_id = res[1].conversation_id; state.pending = {}; save();
          showChat(); connect();
        })
        .catch(function () { err.textContent = t("chat_error"); });
    });
  }

  function showChat() {
    body.innerHTML = "";
    log = el("ol", { id: "llw-log", role: "log", "aria-live": "polite", "aria-label": t("chat_title") });
    body.appendChild(log);
    compose.hidden = false; seen = {}; lastSeq = 0;
    Object.keys(state.pending).forEach(function (id) { render({ client_msg_id: id, body: state.pending[id], sender: "customer" }, true); });
    input.focus();
  }

  function connect() {
    if (ws && (ws.readyState === 0 || ws.readyState === 1)) return;
    var url = origin.replace(/^http/, "ws") + "/ws/chat?token=" + encodeURIComponent(state.token) + "&last_seq=" + lastSeq;
    ws = new WebSocket(url);
    ws.onopen = function () {
      retry = 0;
      Object.keys(state.pending).forEach(function (id) { raw({ type: "message", client_msg_id: id, body: state.pending[id] }); });
    };
    ws.onmessage = function (e) { onFrame(JSON.parse(e.data)); };
    ws.onclose = function (e) {
      ws = null;
      if (e.code === 4401) { forget(); return; }
      if (!state.token) return;
      statusBar.textContent = t("chat_reconnecting");
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 300 * retry);
    };
  }

  function raw(frame) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame)); }

  function forget() {
    state.token = null; state.conversation_id = null; state.pending = {}; save();
    if (ws) { try { ws.close(); } catch (e) { /* closing */ } }
    showForm();
  }

  function onFrame(f) {
    if (f.type === "message") {
      render(f, false); markRead();
      if (f.sender === "agent") typingLine.textContent = "";
    }
    else if (f.type === "ack") { delete state.pending[f.client_msg_id]; save(); }
    else if (f.type === "status") { setStatus(f); }
    else if (f.type === "typing") { typingLine.textContent = f.on && f.sender === "agent" ? t("chat_agent_typing") : ""; }
    else if (f.type === "callback_ok") { tools.innerHTML = ""; tools.appendChild(el("p", { role: "status" }, t("chat_callback_ok"))); }
    else if (f.type === "rated") { rated = true; tools.innerHTML = ""; tools.appendChild(el("p", { role: "status" }, t("chat_rate_thanks"))); newChatButton(); }
    else if (f.type === "error") { statusBar.textContent = t("chat_error") + ": " + f.message; }
  }

  function render(m, pending) {
    if (!pending) {
      if (seen[m.seq]) return;
      seen[m.seq] = true;
      while (seen[lastSeq + 1]) lastSeq += 1;
      var mine = m.client_msg_id && log.querySelector('li[data-client-id="' + m.client_msg_id + '"]');
      if (mine) mine.remove();
    }
    var li = el("li", { class: "llw-" + (m.sender === "customer" ? "customer" : "agent") + (pending ? " llw-pending" : "") });
    if (m.client_msg_id && pending) li.setAttribute("data-client-id", m.client_msg_id);
    if (!pending) li.setAttribute("data-seq", m.seq);
    li.appendChild(el("span", { class: "llw-sr" }, (m.sender === "customer" ? t("chat_you") : t("chat_agent")) + ": "));
    li.appendChild(document.createTextNode(m.body));
    if (pending) li.appendChild(el("span", { class: "llw-sr" }, " (" + t("chat_sending") + ")"));
    // keep the order of the server's numbers; pending ones stay last
    var after = null;
    if (!pending) {
      var items = log.querySelectorAll("li[data-seq]");
      for (var i = 0; i < items.length; i++) { if (+items[i].getAttribute("data-seq") > m.seq) { after = items[i]; break; } }
      if (!after) after = log.querySelector("li.llw-pending");
    }
    log.insertBefore(li, after);
    body.scrollTop = body.scrollHeight;
  }

  function markRead() { if (!panel.hidden && document.visibilityState !== "hidden") raw({ type: "read", seq: lastSeq }); }

  function sendMessage() {
    var text = input.value.trim();
    if (!text || !state.token) return;
    var id = newId();
    state.pending[id] = text; save();          // kept until the server acknowledges it
    render({ client_msg_id: id, body: text, sender: "customer" }, true);
    raw({ type: "message", client_msg_id: id, body: text });
    input.value = ""; typingSent = 0; raw({ type: "typing", on: false });
  }

  function typing() {
    var now = Date.now();
    if (now - typingSent > 2000) { raw({ type: "typing", on: true }); typingSent = now; }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { raw({ type: "typing", on: false }); typingSent = 0; }, 3000);
  }

  function setStatus(f) {
    var previous = chatState;
    chatState = f.state;
    var text = "";
    if (f.state === "waiting") {
      text = t("chat_waiting") + " " + t("chat_position") + ": " + f.position + " · " + t("chat_ewt") + ": " +
        (f.ewt_s == null ? t("chat_unknown_wait") : Math.max(1, Math.round(f.ewt_s / 60)) + " " + t("chat_minutes"));
    } else if (f.state === "connected") { text = t("chat_connected"); }
    else if (f.state === "callback") { text = t("chat_callback_ok"); }
    else if (f.state === "closed" || f.state === "left_message") {
      text = (f.open === false ? t("chat_outside_hours") : t("chat_closed")) + " — " + t("chat_leave_message");
    } else if (f.state === "ended") { text = t("chat_ended"); }
    statusBar.textContent = text;
    if (previous === f.state && tools.childNodes.length) return;
    tools.innerHTML = "";
    if (f.state === "waiting" || f.state === "closed" || f.state === "left_message") callbackTools();
    if (f.state === "waiting" || f.state === "connected") {
      var end = el("button", { type: "button", class: "llw-btn llw-secondary", id: "llw-end" }, t("chat_end"));
      end.addEventListener("click", function () { raw({ type: "end" }); });
      tools.appendChild(end);
    }
    if (f.state === "ended") {
      compose.hidden = true; typingLine.textContent = "";
      if (f.rating == null && !rated) ratingForm(); else newChatButton();
    } else { compose.hidden = false; }
  }

  function callbackTools() {
    var open = el("button", { type: "button", class: "llw-btn llw-secondary", id: "llw-callback-open" }, t("chat_callback"));
    tools.appendChild(open);
    open.addEventListener("click", function () {
      open.remove();
      var form = el("form", { id: "llw-callback" });
      form.appendChild(el("label", { for: "llw-cb-phone" }, t("chat_phone")));
      form.appendChild(el("input", { id: "llw-cb-phone", type: "tel", required: "", autocomplete: "tel" }));
      form.appendChild(el("label", { for: "llw-cb-at" }, t("chat_callback_time")));
      form.appendChild(el("input", { id: "llw-cb-at", type: "datetime-local" }));
      form.appendChild(el("button", { type: "submit", class: "llw-btn" }, t("chat_callback")));
      tools.insertBefore(form, tools.firstChild);
      form.querySelector("input").focus();
      form.addEventListener("submit", function (e) {
        e.preventDefault();
        var at = form.querySelector("#llw-cb-at").value;
        raw({ type: "callback", phone: form.querySelector("#llw-cb-phone").value, at: at ? new Date(at).toISOString() : null });
      });
    });
  }

  function ratingForm() {
    var form = el("form", { id: "llw-rate" });
    var set = el("fieldset");
    set.appendChild(el("legend", {}, t("chat_rate")));
    var stars = el("div", { class: "llw-stars" });
    for (var i = 5; i >= 1; i--) {
      var id = "llw-star-" + i;
      var lab = el("label", { for: id });
      var radio = el("input", { type: "radio", name: "score", id: id, value: String(i) });
      if (i === 5) radio.checked = true;
      lab.appendChild(radio);
      lab.appendChild(document.createTextNode(" " + i + " " + t("chat_stars")));
      stars.appendChild(lab);
    }
    set.appendChild(stars);
    form.appendChild(set);
    form.appendChild(el("label", { for: "llw-rate-comment" }, t("chat_rate_comment")));
    form.appendChild(el("input", { id: "llw-rate-comment", type: "text", maxlength: "2000" }));
    form.appendChild(el("button", { type: "submit", class: "llw-btn" }, t("chat_rate_send")));
    tools.appendChild(form);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var checked = form.querySelector("input[name=score]:checked");
      raw({ type: "rate", score: +(checked ? checked.value : 5), comment: form.querySelector("#llw-rate-comment").value });
    });
  }

  function newChatButton() {
    if (document.getElementById("llw-new")) return;
    var again = el("button", { type: "button", class: "llw-btn llw-secondary", id: "llw-new" }, t("chat_new"));
    again.addEventListener("click", forget);
    tools.appendChild(again);
  }

  document.addEventListener("visibilitychange", markRead);
  fetch(origin + "/api/v1/chat/widget-config?tenant=" + encodeURIComponent(tenant) + "&queue_id=" + encodeURIComponent(queueId) + "&lang=" + lang)
    .then(function (r) { if (!r.ok) throw new Error("widget config " + r.status); return r.json(); })
    .then(function (cfg) {
      S = cfg.strings;
      if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build); else build();
    })
    .catch(function (e) { if (window.console) console.warn("Lianluo chat widget:", e.message); });
})();
