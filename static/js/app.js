// Progressive enhancements shared by every page; each page works without them.
document.addEventListener("DOMContentLoaded", () => {
  // Enter on a list that has a "Go"/"Show" button submits its form, as Enter does in a text field
  // (the company switcher: it never acts on a change, so arrow keys only browse the list).
  for (const select of document.querySelectorAll("select[data-submit-on-enter], select[data-autosubmit]")) {
    select.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        select.form.requestSubmit();
      }
    });
  }
  // Lists that apply themselves (the period choices): at once when picked with a mouse or a
  // finger, but not while the keyboard walks through the options; Enter or the form's button
  // applies the choice then.
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    let byKeyboard = false;
    select.addEventListener("keydown", (event) => {
      if (event.key !== "Enter" && event.key !== "Tab") byKeyboard = true;
    });
    select.addEventListener("pointerdown", () => {
      byKeyboard = false;
    });
    select.addEventListener("change", () => {
      if (!byKeyboard) select.form.requestSubmit();
    });
  }
  // Buttons that take something away ask first.
  for (const button of document.querySelectorAll("button[data-confirm]")) {
    button.addEventListener("click", (event) => {
      if (!window.confirm(button.dataset.confirm)) event.preventDefault();
    });
  }
  // After a failed submit, focus goes to the summary of what is wrong; after a save, to the
  // message saying so: a screen reader reads it, and Tab continues from there.
  const summary = document.querySelector("[data-error-summary]");
  const messages = document.querySelector("[data-messages]");
  const target = summary || messages;
  if (target) target.focus({ preventScroll: false });
  // A link in the error summary moves focus to its field, not just the view.
  if (summary) {
    for (const link of summary.querySelectorAll('a[href^="#"]')) {
      link.addEventListener("click", (event) => {
        const field = document.getElementById(link.getAttribute("href").slice(1));
        if (!field) return;
        event.preventDefault();
        field.focus();
        field.scrollIntoView({ block: "center" });
      });
    }
  }
});
