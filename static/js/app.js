// Progressive enhancements shared by every page; each page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // The company switcher navigates as soon as a company is picked.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  // Buttons that take something away ask first.
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
});
