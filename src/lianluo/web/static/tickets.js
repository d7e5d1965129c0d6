// Ticket detail actions through the API (the session cookie authenticates); reload on success.
const root = document.getElementById("ticket");
const id = root.dataset.ticket;
const msg = document.getElementById("status-msg");

async function call(path, options) {
  msg.textContent = "…";
  const response = await fetch(`/api/v1/tickets/${id}${path}`, {
    credentials: "same-origin",
    ...options,
  });
  if (!response.ok) {
    let text = `${response.status}`;
    try {
      text = (await response.json()).error.message;
    } catch (_) { /* not JSON */ }
    msg.textContent = `${root.dataset.msgError}: ${text}`;
    msg.classList.add("error");
    return false;
  }
  msg.textContent = root.dataset.msgSaved;
  window.location.reload();
  return true;
}

const json = (body) => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

function on(formId, handler) {
  const form = document.getElementById(formId);
  if (form) form.addEventListener("submit", (event) => { event.preventDefault(); handler(form); });
}

on("entry-form", () => call("/entries", json({
  kind: document.getElementById("entry-kind").value,
  body: document.getElementById("entry-body").value,
})));
on("status-form", () => call("/status", json({
  status: document.getElementById("status-select").value,
})));
on("rating-form", () => call("/rating", json({
  score: Number(document.getElementById("rating-score").value),
})));
on("callback-form", () => call("/callback", json({
  in_business_s: Math.round(Number(document.getElementById("callback-hours").value) * 3600),
})));
on("upload-form", () => {
  const input = document.getElementById("upload-file");
  if (!input.files.length) return;
  const data = new FormData();
  data.append("file", input.files[0]);
  call("/attachments", { method: "POST", body: data });
});
const take = document.getElementById("take-btn");
if (take) take.addEventListener("click", () => call("/assign", json({})));
const escalate = document.getElementById("escalate-btn");
if (escalate) escalate.addEventListener("click", () => call("/escalate", json({ reason: "" })));
