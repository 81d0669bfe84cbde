// A long form post (a restore from backup): while the server works, the button is disabled
// and a progress bar runs, so nobody presses twice.
"use strict";
document.querySelectorAll("form[data-progress]").forEach((form) => {
  form.addEventListener("submit", () => {
    const bar = form.querySelector("progress");
    if (bar) bar.hidden = false;
    form.querySelectorAll("button[type=submit]").forEach((b) => { b.disabled = true; });
  });
});
