// Progressive enhancements shared by every page; each page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // The company switcher navigates as soon as a company is picked.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
});
