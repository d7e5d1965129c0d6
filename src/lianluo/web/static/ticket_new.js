// "New ticket" on the ticket list: find the customer by name, phone or e-mail (exactly one
// must match), file the ticket by hand through the API, then open it.
const form = document.getElementById("new-ticket-form");
const msg = document.getElementById("new-msg");

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: "same-origin", ...options });
  let body = null;
  try { body = await response.json(); } catch (_) { /* not JSON */ }
  if (!response.ok) {
    const text = (body && body.error && body.error.message) || `${response.status}`;
    throw new Error(text);
  }
  return body;
}

function fail(text) {
  msg.textContent = text;
  msg.classList.add("error");
}

if (form) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    msg.classList.remove("error");
    msg.textContent = "…";
    try {
      const q = document.getElementById("new-customer").value.trim();
      const found = await api(`/api/v1/customers?q=${encodeURIComponent(q)}&page_size=2`);
      if (found.items.length === 0) return fail(form.dataset.msgNone);
      if (found.items.length > 1) return fail(form.dataset.msgMany);
      const ticket = await api("/api/v1/tickets", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          customer_id: found.items[0].id,
          category_id: document.getElementById("new-category").value,
          priority: document.getElementById("new-priority").value,
          subject: document.getElementById("new-subject").value,
          description: document.getElementById("new-description").value,
        }),
      });
      window.location.assign(`/tickets/${ticket.id}`);
    } catch (error) {
      fail(`${form.dataset.msgError}: ${error.message}`);
    }
  });
}
