// Figures pages: open and close account groups in place. Without JavaScript each group toggle is a
// link that reloads the page with ?apne=… — here it becomes a real button (Space and Enter toggle,
// aria-expanded says the state, aria-controls names the rows it shows), toggling in place and
// keeping the URL in step, so the address still bookmarks exactly what is shown.
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

  // The link, replaced by a button with the same content and state.
  const asButton = (link) => {
    const group = link.closest("tbody.group");
    if (!group.id) group.id = `group-rows-${link.dataset.groupToggle}`;
    const button = document.createElement("button");
    button.type = "button";
    button.className = link.className;
    button.dataset.groupToggle = link.dataset.groupToggle;
    button.setAttribute("aria-expanded", String(group.classList.contains("is-open")));
    button.setAttribute("aria-controls", group.id);
    button.append(...link.childNodes);
    link.replaceWith(button);
    return button;
  };

  for (const link of document.querySelectorAll("a[data-group-toggle]")) {
    const button = asButton(link);
    button.addEventListener("click", () => {
      const group = button.closest("tbody.group");
      const isOpen = group.classList.toggle("is-open");
      button.setAttribute("aria-expanded", String(isOpen));
      syncUrl();
    });
  }
});
