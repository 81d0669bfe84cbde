// After re-authentication: make the kept change at once (the page's "Continue" button does
// the same without script). A download leaves the page in place, so it says so afterwards.
"use strict";
(function () {
  const form = document.querySelector("form[data-auto-submit]");
  if (!form || form.dataset.sent) return;
  form.dataset.sent = "1";
  form.submit();
})();
