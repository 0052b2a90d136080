// Report packs: while a pack on the page is queued or being made, ask the server for its state
// every two seconds and update its row (and a batch's progress bar); stop when none is pending.
(function () {
  "use strict";
  var POLL_MS = 2000;

  function badgeClass(status) {
    if (status === "done") return "badge ok";
    if (status === "failed") return "badge bad";
    return "badge warn";
  }

  function updateRow(row, pack, downloadLabel) {
    var status = row.querySelector('[data-role="status"]');
    if (status) {
      var badge = document.createElement("span");
      badge.className = badgeClass(pack.status);
      badge.textContent = pack.label;
      status.replaceChildren(badge);
    }
    var pages = row.querySelector('[data-role="pages"]');
    if (pages) pages.textContent = pack.pages ? String(pack.pages) : "";
    var link = row.querySelector('[data-role="link"]');
    if (link && pack.url) {
      var a = document.createElement("a");
      a.href = pack.url;
      a.textContent = downloadLabel;
      a.setAttribute("data-testid", "pack-download");
      link.replaceChildren(a);
    }
    row.setAttribute("data-pending", pack.status === "queued" || pack.status === "running" ? "true" : "false");
  }

  function poll(table, url, onCounts) {
    var label = table.getAttribute("data-download-label") || "PDF";
    function tick() {
      var pending = table.querySelectorAll('tr[data-pending="true"]');
      if (!pending.length) return;
      var ids = Array.prototype.map.call(pending, function (r) { return r.getAttribute("data-pack"); });
      var target = url.indexOf("?") === -1 && !onCounts ? url + "?id=" + ids.join(",") : url;
      fetch(target, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) return;
          data.packs.forEach(function (pack) {
            var row = table.querySelector('tr[data-pack="' + pack.id + '"]');
            if (row) updateRow(row, pack, label);
          });
          if (onCounts && data.counts) onCounts(data);
          window.setTimeout(tick, POLL_MS);
        })
        .catch(function () { window.setTimeout(tick, POLL_MS * 2); });
    }
    window.setTimeout(tick, POLL_MS);
  }

  var packs = document.querySelector('[data-testid="packs-table"]');
  if (packs) poll(packs, packs.getAttribute("data-status-url"), null);

  var progress = document.querySelector('[data-testid="batch-progress"]');
  var batchTable = document.querySelector('[data-testid="batch-table"]');
  if (progress && batchTable) {
    poll(batchTable, progress.getAttribute("data-status-url"), function (data) {
      var bar = progress.querySelector("progress");
      if (bar) { bar.max = data.counts.total; bar.value = data.counts.finished; }
      var summary = progress.querySelector('[data-role="summary"]');
      if (summary && data.summary) summary.textContent = data.summary;
    });
  }
})();
