// Sync page and firm page panel: while a sync runs, poll its progress and update the bar; when it
// ends, reload so the new "figures as of", banners and log show. Without JS the page still works.
(function () {
  "use strict";
  var box = document.querySelector("[data-sync-progress]");
  if (!box) return;
  var url = box.getAttribute("data-status-url");
  var bar = box.querySelector("[data-sync-bar]");
  var done = box.querySelector("[data-sync-done]");
  var total = box.querySelector("[data-sync-total]");
  var label = box.querySelector("[data-sync-status]");
  var interval = 1000;
  var failures = 0;

  function show(run) {
    box.classList.remove("is-hidden");
    if (done) done.textContent = String(run.months_done);
    if (total) total.textContent = String(run.months_total);
    if (bar) {
      bar.max = Math.max(run.months_total, 1);
      bar.value = run.months_done;
    }
    if (label) label.textContent = run.status_label;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (data) {
        failures = 0;
        if (data.run && data.active) {
          show(data.run);
          window.setTimeout(poll, interval);
        } else {
          window.location.reload();
        }
      })
      .catch(function () {
        failures += 1;
        if (failures < 10) window.setTimeout(poll, interval * 3);
      });
  }

  if (box.getAttribute("data-active") === "1") window.setTimeout(poll, interval);
})();
