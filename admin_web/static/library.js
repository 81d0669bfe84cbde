/* The message library: "make every missing message with text-to-speech" in batches, with a
   progress bar, ending on the list of what was made and what still needs a recording.
   Without script the same button does one batch per press. */
(function () {
  "use strict";

  var form = document.getElementById("regenerate-form");
  if (!form || !window.fetch) { return; }
  var bar = document.getElementById("regenerate-progress");
  var status = document.getElementById("regenerate-status");
  var label = form.getAttribute("data-progress-label");
  var made = [];  // ids of the messages made, for the result listed on the page

  function batch(done, failed) {
    return fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Accept": "application/json"},
      body: new FormData(form)
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (data) {
      done += data.done;
      made = made.concat(data.made || []);
      failed += data.failed.length;
      bar.max = done + failed + data.remaining;
      bar.value = done + failed;
      status.textContent = label.replace("%(done)s", done).replace("%(left)s", data.remaining);
      return data.remaining > 0 && data.done > 0 ? batch(done, failed) : null;
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    form.querySelector("button").disabled = true;
    bar.hidden = false;
    batch(0, 0).then(function () {
      window.location.assign(window.location.pathname + "?missing=1&made=" + made.join(","));
    }, function (error) {
      status.textContent = error.message;
      form.querySelector("button").disabled = false;
    });
  });
}());
