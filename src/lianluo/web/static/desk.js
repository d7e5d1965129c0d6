/* The agent desk: offers and changes pushed over /ws/desk, chats joined on the same socket,
 * everything else through the REST API with the session cookie. Agent messages not yet
 * acknowledged are kept in localStorage and resent after a reload (the server stores a
 * client id once); each conversation is replayed from the last number this page has. */
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("desk-strings").textContent);
  function t(k) { return S[k] || k; }
  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { n.setAttribute(k, attrs[k]); });
    if (text != null) n.textContent = text;
    return n;
  }
  var storeKey = "lianluo-desk-pending";
  var pending = {};
  try { pending = JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { pending = {}; }
  function savePending() { try { localStorage.setItem(storeKey, JSON.stringify(pending)); } catch (e) { /* ignore */ } }

  var ws = null, retry = 0, setup = null, chats = [], active = null;
  var convs = {};      // conversation_id -> {messages: {seq: m}, last: n, unread: n, joined: bool, typing: bool, left: bool}
  var customers = {};  // customer_id -> 360 view

  function api(method, path, body) {
    var opts = { method: method, headers: { "Accept": "application/json" }, credentials: "same-origin" };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { location.href = "/login?next=/desk"; throw new Error("401"); }
      return r.json().then(function (j) {
        if (!r.ok) throw new Error((j.error && j.error.message) || ("HTTP " + r.status));
        return j;
      });
    });
  }
  function fail(e) { $("desk-error").textContent = t("chat_error") + ": " + e.message; }
  function conv(id) {
    if (!convs[id]) convs[id] = { messages: {}, last: 0, unread: 0, joined: false, typing: false, left: false };
    return convs[id];
  }
  function newId() {
    var a = new Uint8Array(8); crypto.getRandomValues(a);
    return "d" + Date.now().toString(36) + "-" + Array.prototype.map.call(a, function (b) { return b.toString(16); }).join("");
  }

  // ---- state --------------------------------------------------------------------------------
  function showState(s) {
    var name = t("desk_state_" + s.state);
    $("my-state").textContent = name + (s.reason ? " (" + s.reason + ")" : "");
    $("my-state").setAttribute("data-state", s.state);
  }
  function loadState() { return api("GET", "/api/v1/routing/me").then(showState); }
  $("state-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var state = $("state-select").value, body = { state: state };
    if (state === "break") body.reason = $("reason-select").value;
    api("POST", "/api/v1/routing/me/state", body).then(showState).catch(fail);
  });

  // ---- offers and chats -----------------------------------------------------------------------
  function refresh() {
    return api("GET", "/api/v1/chat/desk").then(function (page) {
      chats = page.items;
      renderOffers(); renderChats();
      chats.forEach(function (c) {
        if (c.state !== "offered") join(c.conversation_id);
      });
      if (active && !chats.some(function (c) { return c.conversation_id === active; })) { active = null; renderActive(); }
      else if (active) renderActive();
      loadState().catch(function () {});
    }).catch(fail);
  }

  function renderOffers() {
    var list = $("offers"); list.innerHTML = "";
    chats.filter(function (c) { return c.state === "offered"; }).forEach(function (c) {
      var li = el("li", { "data-contact": c.contact_id });
      li.appendChild(el("div", {}, c.customer_name + " · " + c.value_tier));
      if (c.transfer_note) li.appendChild(el("div", { class: "note" }, t("desk_transferred_from") + ": " + c.transfer_note));
      var left = el("span", { class: "countdown", "aria-live": "off" });
      li.appendChild(left);
      var accept = el("button", { type: "button" }, t("desk_accept"));
      var reject = el("button", { type: "button", class: "danger" }, t("desk_reject"));
      accept.addEventListener("click", function () {
        api("POST", "/api/v1/contacts/" + c.contact_id + "/accept").then(function () { active = c.conversation_id; return refresh(); }).catch(fail);
      });
      reject.addEventListener("click", function () {
        api("POST", "/api/v1/contacts/" + c.contact_id + "/reject").then(refresh).catch(fail);
      });
      li.appendChild(el("br")); li.appendChild(accept); li.appendChild(document.createTextNode(" ")); li.appendChild(reject);
      list.appendChild(li);
      function tick() {
        if (!li.isConnected) return;
        var s = Math.max(0, Math.round(c.expires_s - Date.now() / 1000));
        left.textContent = " " + s + " " + t("desk_seconds_left");
        if (s > 0) setTimeout(tick, 1000); else setTimeout(refresh, 1500);
      }
      tick();
      accept.focus();
    });
  }

  function renderChats() {
    var list = $("chats"); list.innerHTML = "";
    chats.filter(function (c) { return c.state !== "offered"; }).forEach(function (c) {
      var cv = conv(c.conversation_id);
      var b = el("button", { type: "button", "data-conversation": c.conversation_id });
      b.appendChild(el("span", {}, c.customer_name + (c.state === "wrap_up" ? " · " + t("desk_state_wrap_up") : "") + (cv.left || c.chat_status === "ended" ? " · " + t("desk_customer_left") : "")));
      if (cv.unread && c.conversation_id !== active) b.appendChild(el("span", { class: "badge", "aria-label": cv.unread + " " + t("desk_unread") }, String(cv.unread)));
      if (c.conversation_id === active) b.setAttribute("aria-current", "true");
      b.addEventListener("click", function () { active = c.conversation_id; cv.unread = 0; renderChats(); renderActive(); $("reply").focus(); });
      list.appendChild(el("li")).appendChild(b);
    });
    var cap = setup && setup.capacity.chat;
    $("capacity").textContent = cap ? "(" + chats.length + "/" + cap + ")" : "";
  }

  function current() { return chats.filter(function (c) { return c.conversation_id === active; })[0]; }

  function renderActive() {
    var c = current();
    $("no-chat").hidden = !!c; $("chat-view").hidden = !c;
    if (!c) return;
    var cv = conv(c.conversation_id);
    $("chat-title").textContent = c.customer_name;
    $("chat-badge").textContent = c.state === "wrap_up" ? t("desk_state_wrap_up") : (cv.left || c.chat_status === "ended" ? t("desk_customer_left") : t("desk_connected"));
    var info = $("transfer-info");
    info.hidden = !c.transfer_note; info.textContent = c.transfer_note ? t("desk_transferred_from") + ": " + c.transfer_note : "";
    $("compose").hidden = c.state !== "connected";
    $("transfer-form").hidden = c.state !== "connected";
    $("wrap-form").hidden = c.state !== "wrap_up";
    renderMessages();
    $("typing").textContent = cv.typing ? t("desk_customer_typing") : "";
    loadCustomer(c.customer_id);
    suggestKb(c.conversation_id);
    markRead();
  }

  // ---- knowledge-base suggestions from the conversation (kb_suggest.js, loaded as a module) ----
  var kbShown = null, kbTimer = null;
  function suggestKb(conversationId, later) {
    if (!later && kbShown === conversationId) return;
    clearTimeout(kbTimer);
    kbTimer = setTimeout(function () {
      var render = window.lianluoKbSuggest;
      if (!render || active !== conversationId) return;
      kbShown = conversationId;
      var panel = $("desk-kb"); panel.classList.remove("reserved");
      var body = panel.querySelector(".panel-body");
      if (!body) { body = el("div", { class: "panel-body" }); panel.appendChild(body); }
      var placeholder = panel.querySelector("p.muted"); if (placeholder) placeholder.remove();
      // the server reads the conversation (tenant-scoped, audited): no transcript leaves here
      render(body, null, { conversationId: conversationId, limit: 3 }).catch(function () {});
    }, later ? 1500 : 0);
  }

  function renderMessages() {
    var c = current(); if (!c) return;
    var cv = conv(c.conversation_id), list = $("messages");
    list.innerHTML = "";
    Object.keys(cv.messages).map(Number).sort(function (a, b) { return a - b; }).forEach(function (seq) {
      var m = cv.messages[seq];
      var li = el("li", { class: m.sender, "data-seq": seq });
      li.textContent = m.body;
      list.appendChild(li);
    });
    Object.keys(pending).forEach(function (id) {
      if (pending[id].conversation_id === c.conversation_id) list.appendChild(el("li", { class: "agent pending" }, pending[id].body));
    });
    list.scrollTop = list.scrollHeight;
  }

  function markRead() {
    var c = current(); if (!c || document.visibilityState === "hidden") return;
    var cv = conv(c.conversation_id);
    cv.unread = 0;
    send({ type: "read", conversation_id: c.conversation_id, seq: cv.last });
  }

  // ---- the customer 360 panel -----------------------------------------------------------------
  function loadCustomer(id) {
    if (customers[id]) return renderCustomer(customers[id]);
    api("GET", "/api/v1/customers/" + id + "/360").then(function (v) { customers[id] = v; renderCustomer(v); }).catch(fail);
  }
  function renderCustomer(v) {
    var p = $("customer-profile"); p.innerHTML = ""; p.classList.remove("muted");
    p.appendChild(el("div", { class: "name" }, v.customer.name));
    p.appendChild(el("div", {}, t("desk_tier") + ": " + v.customer.value_tier));
    var ids = $("customer-identities"); ids.innerHTML = "";
    v.identities.forEach(function (i) { ids.appendChild(el("li", {}, i.kind + ": " + i.value)); });
    var tl = $("customer-timeline"); tl.innerHTML = "";
    v.timeline.forEach(function (c) {
      var channels = c.contacts.map(function (x) { return x.channel + (x.disposition ? " (" + x.disposition + ")" : ""); }).join(", ");
      tl.appendChild(el("li", {}, c.started_at.slice(0, 16).replace("T", " ") + " · " + (c.subject || "") + " · " + channels + " · " + c.messages.length));
    });
    renderTickets(v);
    renderInsights(v);
  }

  // ---- open tickets (工单) and insights, from the same 360 view ---------------------------------
  var CLOSED = { resolved: 1, closed: 1, merged: 1 };
  function panelBody(id) {
    var panel = $(id); panel.classList.remove("reserved");
    var body = panel.querySelector(".panel-body");
    if (!body) { body = el("div", { class: "panel-body" }); panel.appendChild(body); }
    var placeholder = panel.querySelector("p.muted"); if (placeholder) placeholder.remove();
    body.innerHTML = "";
    return body;
  }
  function renderTickets(v) {
    var body = panelBody("desk-tickets");
    var open = (v.tickets || []).filter(function (k) { return !CLOSED[k.status]; });
    if (!open.length) body.appendChild(el("p", { class: "muted" }, t("desk_no_open_tickets")));
    else body.appendChild(ticketList(open));
    var c = current();
    if (created[v.customer.id]) {
      body.appendChild(el("p", { class: "ok", role: "status" }, t("desk_ticket_created") + ": " + created[v.customer.id]));
      delete created[v.customer.id];
    }
    if (c && c.customer_id === v.customer.id) body.appendChild(newTicketForm(c, v.customer.id));
  }
  // "New ticket" from the chat in hand: the server files it from the contact (customer, queue
  // and the first owner follow the contact); the API's 4xx message shows beside the form
  var categories = null, created = {};
  function loadCategories() {
    if (!categories) {
      categories = api("GET", "/api/v1/ticket-categories?page_size=100").then(function (p) {
        return p.items.filter(function (k) { return k.is_active !== false; });
      });
      categories.catch(function () { categories = null; });
    }
    return categories;
  }
  function newTicketForm(c, customerId) {
    var details = el("details", { class: "desk-new-ticket" });
    details.appendChild(el("summary", { title: t("desk_ticket_from_chat") }, t("tk_new")));
    var form = el("form", { id: "desk-new-ticket-form" });
    function field(label, input) {
      var l = el("label", {}, t(label) + " ");
      l.appendChild(input);
      form.appendChild(l);
      return input;
    }
    var category = field("tk_category", el("select", { name: "category_id", required: "" }));
    var subject = field("tk_subject", el("input", { name: "subject", required: "", maxlength: "200" }));
    var priority = field("tk_priority", el("select", { name: "priority" }));
    ["low", "normal", "high", "urgent"].forEach(function (p) {
      var o = el("option", { value: p }, t("tk_priority_" + p));
      if (p === "normal") o.selected = true;
      priority.appendChild(o);
    });
    var description = field("tk_description_new", el("textarea", { name: "description", rows: "3", maxlength: "20000" }));
    var overHead = el("input", { type: "checkbox", name: "over_the_head" });
    var oh = el("label", { class: "inline" }); oh.appendChild(overHead); oh.appendChild(document.createTextNode(" " + t("tk_over_the_head")));
    form.appendChild(oh);
    var submit = el("button", { type: "submit" }, t("tk_create"));
    form.appendChild(submit);
    var msg = el("p", { class: "desk-new-ticket-msg", role: "status" });
    form.appendChild(msg);
    details.appendChild(form);
    details.addEventListener("toggle", function () {
      if (!details.open || category.options.length) return;
      loadCategories().then(function (items) {
        if (!items.length) { msg.textContent = t("desk_no_categories"); submit.disabled = true; return; }
        items.forEach(function (k) { category.appendChild(el("option", { value: k.id }, k.name)); });
      }).catch(function (e) { msg.textContent = e.message; msg.className = "desk-new-ticket-msg error"; });
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      submit.disabled = true;
      msg.className = "desk-new-ticket-msg"; msg.textContent = "";
      api("POST", "/api/v1/tickets", {
        contact_id: c.contact_id, category_id: category.value, subject: subject.value.trim(),
        description: description.value, priority: priority.value, over_the_head: overHead.checked
      }).then(function (ticket) {
        created[customerId] = ticket.subject;
        delete customers[customerId];
        loadCustomer(customerId);  // the panel shows the new ticket with its flags
      }).catch(function (err) {
        msg.textContent = err.message; msg.className = "desk-new-ticket-msg error"; submit.disabled = false;
      });
    });
    return details;
  }
  function ticketList(open) {
    var ul = el("ul", { class: "desk-ticket-list" });
    open.forEach(function (k) {
      var li = el("li", {});
      var a = el("a", { href: "/tickets/" + k.id, target: "_blank", rel: "noopener" }, k.subject);
      li.appendChild(a);
      var flags = [k.category, t("tk_status_" + k.status), t("tk_priority_" + k.priority)];
      if (k.repeat_complaint) flags.push(t("desk_repeat_complaint"));
      if (k.over_the_head) flags.push(t("desk_over_the_head"));
      li.appendChild(el("div", { class: "muted" }, flags.join(" · ")));
      ul.appendChild(li);
    });
    return ul;
  }
  function renderInsights(v) {
    var body = panelBody("desk-insights");
    var risk = v.customer.churn_risk;
    if (risk === null || risk === undefined) { body.appendChild(el("p", { class: "muted" }, t("desk_no_churn_score"))); return; }
    var level = risk >= 0.6 ? "high" : (risk >= 0.3 ? "medium" : "low");
    body.appendChild(el("p", { class: "churn churn-" + level, "data-churn": String(risk) },
      t("desk_churn_risk") + ": " + Math.round(risk * 100) + "% (" + t("desk_churn_" + level) + ")"));
  }

  // ---- the socket -----------------------------------------------------------------------------
  function send(frame) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame)); }
  function join(id) {
    var cv = conv(id);
    if (cv.joined) return;
    cv.joined = true;
    send({ type: "join", conversation_id: id, last_seq: cv.last });
  }
  function connect() {
    ws = new WebSocket(location.origin.replace(/^http/, "ws") + "/ws/desk");
    ws.onopen = function () {
      retry = 0;
      Object.keys(convs).forEach(function (id) { convs[id].joined = false; });
      refresh().then(function () {
        Object.keys(pending).forEach(function (id) {
          var p = pending[id];
          send({ type: "message", conversation_id: p.conversation_id, client_msg_id: id, body: p.body });
        });
      });
    };
    ws.onmessage = function (e) { onFrame(JSON.parse(e.data)); };
    ws.onclose = function () { retry = Math.min(retry + 1, 6); setTimeout(connect, 300 * retry); };
  }
  // the voice call panel (desk_voice.js) sends its frames on this socket and hears them all
  window.lianluoDeskSend = send;
  function onFrame(f) {
    document.dispatchEvent(new CustomEvent("lianluo-desk-frame", { detail: f }));
    if (f.type === "desk") { refresh(); }
    else if (f.type === "joined") { conv(f.conversation_id).joined = true; }
    else if (f.type === "left") { conv(f.conversation_id).joined = false; }
    else if (f.type === "message") {
      var cv = conv(f.conversation_id);
      if (cv.messages[f.seq]) return;
      cv.messages[f.seq] = f;
      while (cv.messages[cv.last + 1]) cv.last += 1;
      if (f.client_msg_id && pending[f.client_msg_id]) { delete pending[f.client_msg_id]; savePending(); }
      if (f.sender === "customer") {
        cv.typing = false;
        if (f.conversation_id === active) $("typing").textContent = "";
        if (f.conversation_id === active && document.visibilityState !== "hidden") markRead();
        else { cv.unread += 1; renderChats(); }
      }
      if (f.conversation_id === active) {
        renderMessages();
        if (f.sender === "customer") suggestKb(f.conversation_id, true);
      }
    }
    else if (f.type === "ack") { if (pending[f.client_msg_id]) { delete pending[f.client_msg_id]; savePending(); } }
    else if (f.type === "typing") {
      var c2 = conv(f.conversation_id); c2.typing = f.on;
      if (f.conversation_id === active) $("typing").textContent = f.on ? t("desk_customer_typing") : "";
    }
    else if (f.type === "status" && f.by === "customer") { conv(f.conversation_id).left = true; refresh(); }
    else if (f.type === "error") { fail(new Error(f.message)); }
  }

  // ---- forms ----------------------------------------------------------------------------------
  var typingAt = 0, typingTimer = null;
  $("reply").addEventListener("input", function () {
    var c = current(); if (!c) return;
    if (Date.now() - typingAt > 2000) { send({ type: "typing", conversation_id: c.conversation_id, on: true }); typingAt = Date.now(); }
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { send({ type: "typing", conversation_id: c.conversation_id, on: false }); typingAt = 0; }, 3000);
  });
  $("reply").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); $("compose").requestSubmit(); }
  });
  $("compose").addEventListener("submit", function (e) {
    e.preventDefault();
    var c = current(), text = $("reply").value.trim();
    if (!c || !text) return;
    var id = newId();
    pending[id] = { conversation_id: c.conversation_id, body: text }; savePending();
    send({ type: "message", conversation_id: c.conversation_id, client_msg_id: id, body: text });
    clearTimeout(typingTimer); typingAt = 0;
    send({ type: "typing", conversation_id: c.conversation_id, on: false });
    $("reply").value = ""; renderMessages();
  });
  $("canned").addEventListener("change", function () {
    var v = $("canned").value;
    if (v) { var r = $("reply"); r.value = (r.value ? r.value + " " : "") + v; r.focus(); $("canned").value = ""; }
  });
  $("end-chat").addEventListener("click", function () {
    var c = current(); if (c) send({ type: "end", conversation_id: c.conversation_id });
  });
  $("transfer-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var c = current(); if (!c) return;
    var body = { note: $("transfer-note").value };
    if ($("transfer-agent").value) body.to_agent_id = $("transfer-agent").value;
    if ($("transfer-queue").value) body.to_queue_id = $("transfer-queue").value;
    api("POST", "/api/v1/contacts/" + c.contact_id + "/transfer", body)
      .then(function () { $("transfer-note").value = ""; active = null; return refresh(); }).catch(fail);
  });
  $("wrap-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var c = current(); if (!c) return;
    api("POST", "/api/v1/contacts/" + c.contact_id + "/wrap-up", { disposition: $("disposition").value, notes: $("wrap-notes").value })
      .then(function () { $("wrap-notes").value = ""; active = null; return refresh(); }).catch(fail);
  });

  // ---- start ----------------------------------------------------------------------------------
  function fill(select, items, label) {
    items.forEach(function (i) { select.appendChild(el("option", { value: i.value }, label(i))); });
  }
  Promise.all([api("GET", "/api/v1/chat/desk/setup"), api("GET", "/api/v1/chat/canned-replies?page_size=200")])
    .then(function (res) {
      setup = res[0];
      if (!setup.agent_id) { $("desk-error").textContent = t("desk_no_agent"); return; }
      fill($("reason-select"), setup.break_reasons.map(function (r) { return { value: r }; }), function (i) { return i.value; });
      fill($("disposition"), setup.dispositions.map(function (r) { return { value: r }; }), function (i) { return i.value; });
      fill($("transfer-agent"), setup.agents.map(function (a) { return { value: a.id, name: a.name, state: a.state }; }), function (i) { return i.name + " (" + t("desk_state_" + i.state) + ")"; });
      fill($("transfer-queue"), setup.queues.map(function (q) { return { value: q.id, name: q.name }; }), function (i) { return i.name; });
      fill($("canned"), res[1].items.map(function (c) { return { value: c.body, title: c.title }; }), function (i) { return i.title; });
      connect();
    })
    .catch(fail);
  document.addEventListener("visibilitychange", markRead);
})();
