// Transactions pages: live booking status (polls a JSON endpoint while anything is queued or
// booking), "Add line" for journal entries, and fund-switch fields shown only when relevant.
// Every page works without this file.
(() => {
  const PENDING = new Set(["queued", "booking"]);
  const POLL_MS = 1500;
  const ANNOUNCE_KEY = `dynamik-announce:${window.location.pathname}`;
  document.documentElement.classList.add("js");

  // What the detail page says once booking has finished: the status, the voucher, the messages.
  function announcement(row) {
    const region = document.querySelector("[data-booking-status]");
    const parts = [row.label];
    if (row.voucher) parts.push(`${region ? region.dataset.voucherWord : ""} ${row.voucher}`.trim());
    return [...parts, ...row.messages].join(". ");
  }

  // After the reload that follows a finished booking, say the result in the live status region
  // and move focus there, so a screen reader user hears "Booked" (or why it was rejected).
  function announceStored() {
    const text = window.sessionStorage.getItem(ANNOUNCE_KEY);
    const region = document.querySelector("[data-booking-status]");
    if (!text || !region) return;
    window.sessionStorage.removeItem(ANNOUNCE_KEY);
    region.focus();
    // Filled after the focus (and a tick), so the region's change is announced too.
    window.setTimeout(() => {
      region.querySelector("[data-booking-announce]").textContent = text;
    }, 100);
  }

  function statusNodes() {
    return Array.from(document.querySelectorAll("[data-txn-status]"));
  }

  function pendingIds() {
    return statusNodes().filter((n) => PENDING.has(n.dataset.status)).map((n) => n.dataset.txnId);
  }

  function render(row) {
    for (const badge of document.querySelectorAll(`[data-txn-status][data-txn-id="${row.id}"]`)) {
      badge.dataset.status = row.status;
      badge.textContent = row.label;
      badge.className = `badge ${row.badge}`.trim();
    }
    for (const cell of document.querySelectorAll(`[data-txn-voucher="${row.id}"]`)) {
      cell.textContent = "";
      if (row.voucher) {
        if (row.voucher_url) {
          const link = document.createElement("a");
          link.href = row.voucher_url;
          link.rel = "noopener";
          link.target = "_blank";
          link.textContent = row.voucher;
          cell.appendChild(link);
        } else {
          cell.textContent = row.voucher;
        }
      }
    }
    for (const note of document.querySelectorAll(`[data-txn-waiting="${row.id}"]`)) {
      if (row.status === "booked") note.textContent = "";
    }
    for (const list of document.querySelectorAll(`[data-txn-messages="${row.id}"]`)) {
      list.textContent = "";
      for (const message of row.messages) {
        const item = document.createElement("li");
        item.textContent = message;
        list.appendChild(item);
      }
    }
  }

  function poll() {
    const holder = document.querySelector("[data-status-url]");
    const ids = pendingIds();
    if (!holder || ids.length === 0) return;
    const url = `${holder.dataset.statusUrl}?ids=${ids.join(",")}`;
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : { rows: [] }))
      .then((data) => {
        let finished = null;
        for (const row of data.rows) {
          if (!PENDING.has(row.status)) finished = row;
          render(row);
        }
        // A finished row may now offer other actions (book again, reverse): reload the detail page.
        if (finished && document.querySelector(".tx-booking") && pendingIds().length === 0) {
          window.sessionStorage.setItem(ANNOUNCE_KEY, announcement(finished));
          window.setTimeout(() => window.location.reload(), 600);
          return;
        }
        window.setTimeout(poll, POLL_MS);
      })
      .catch(() => window.setTimeout(poll, POLL_MS * 4));
  }

  function addLine(prefix) {
    const template = document.querySelector(`template[data-formset-template="${prefix}"]`);
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    const body = document.querySelector(`[data-formset-prefix="${prefix}"] tbody`);
    if (!template || !total || !body) return;
    const index = Number(total.value);
    const html = template.innerHTML
      .replaceAll("__prefix__", String(index))
      .replaceAll("__number__", String(index + 1));
    body.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
  }

  function kindFields() {
    const kind = document.getElementById("id_kind");
    if (!kind) return;
    const sync = () => {
      for (const block of document.querySelectorAll("[data-kind-only]")) {
        block.hidden = block.dataset.kindOnly !== kind.value;
      }
    };
    kind.addEventListener("change", sync);
    sync();
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const button of document.querySelectorAll("[data-formset-add]")) {
      button.addEventListener("click", () => addLine(button.dataset.formsetAdd));
    }
    kindFields();
    announceStored();
    if (pendingIds().length) window.setTimeout(poll, POLL_MS);
  });
})();
