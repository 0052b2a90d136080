// Figures pages: open and close account groups in place. Without JavaScript each group toggle is a
// link that reloads the page with ?apne=… — here we toggle in place and keep the URL in step, so the
// address still bookmarks exactly what is shown.
document.addEventListener("DOMContentLoaded", () => {
  const openKeys = () =>
    [...document.querySelectorAll("tbody.group.is-open")].map((g) => g.dataset.group);

  const syncUrl = () => {
    const url = new URL(window.location.href);
    const keys = openKeys();
    if (keys.length) url.searchParams.set("apne", keys.join(","));
    else url.searchParams.delete("apne");
    window.history.replaceState(null, "", url);
    for (const input of document.querySelectorAll('.period-form input[name="apne"]')) {
      input.value = keys.join(",");
    }
  };

  for (const link of document.querySelectorAll("a[data-group-toggle]")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const group = link.closest("tbody.group");
      const isOpen = group.classList.toggle("is-open");
      link.setAttribute("aria-expanded", String(isOpen));
      syncUrl();
    });
  }
});
