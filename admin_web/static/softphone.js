/* The browser softphone: rings when the switchboard calls, answers, plays what the
   switchboard says, records from the microphone after the tone and sends each recording
   with the key or hang-up that ended it; dials 333. The call's logic is the server's: this
   file only performs the steps it is given (play, tone, record, timer, ring) and reports
   what the person did. No inline script anywhere (CSP). */
(function () {
  "use strict";

  var panel = document.getElementById("softphone");
  if (!panel || !window.fetch) { return; }

  function el(id) { return document.getElementById(id); }
  function text(name) { return panel.getAttribute("data-text-" + name) || name; }

  var call = null;          // the current call as the server last described it
  var generation = 0;       // bumps on every new batch of steps; older batches stop
  var queue = Promise.resolve();
  var recorder = null;      // {media, stopped: Promise<Blob>, take}
  var timer = null;
  var ringTimer = null;
  var player = null;
  var finishPlayback = null;
  var audioContext = null;
  var polling = null;
  var rtc = null;           // the call carried over WebRTC (webrtc_call.js), when it is

  function setState(state, message) {
    panel.setAttribute("data-state", state);
    el("softphone-status").textContent = message;
  }

  function log(message) {
    var item = document.createElement("li");
    item.textContent = message;
    el("softphone-log").appendChild(item);
  }

  function keypad(enabled) {
    var keys = panel.querySelectorAll("[data-key]");
    for (var i = 0; i < keys.length; i++) { keys[i].disabled = !enabled; }
    el("softphone-hangup").disabled = !enabled;
    el("softphone-dial").disabled = enabled;
  }

  function request(url, method, fields, audio) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": panel.getAttribute("data-csrf")}
    };
    if (method === "POST") {
      var body = new FormData();
      Object.keys(fields || {}).forEach(function (key) { body.append(key, fields[key]); });
      if (audio) { body.append("audio", audio, "take.webm"); }
      options.body = body;
    }
    return fetch(url, options).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || String(response.status)); }
        return data;
      });
    });
  }

  /* --- sound ------------------------------------------------------------------------- */

  function context() {
    if (!audioContext) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      audioContext = Ctx ? new Ctx() : null;
    }
    return audioContext;
  }

  function tone(kind) {
    var seconds = kind === "beep" ? 0.4 : 0.8;
    return new Promise(function (resolve) {
      var ctx = context();
      window.setTimeout(resolve, seconds * 1000 + 100);  // even if the context is suspended
      if (!ctx) { return; }
      var osc = ctx.createOscillator();
      var gain = ctx.createGain();
      osc.frequency.value = kind === "beep" ? 1000 : 425;
      gain.gain.value = 0.2;
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + seconds);
    });
  }

  function play(url) {
    stopPlayback();
    return new Promise(function (resolve) {
      player = new Audio(url);
      finishPlayback = resolve;
      player.onended = resolve;
      player.onerror = resolve;
      var started = player.play();
      if (started && started.catch) { started.catch(resolve); }
    });
  }

  function stopPlayback() {
    if (player) { player.pause(); player.removeAttribute("src"); player = null; }
    if (finishPlayback) { finishPlayback(); finishPlayback = null; }
  }

  /* --- recording --------------------------------------------------------------------- */

  function startRecording(step) {
    // Faithful audio: no echo cancellation, noise suppression or automatic gain.
    var constraints = {audio: {echoCancellation: false, noiseSuppression: false,
                               autoGainControl: false, channelCount: 1}};
    return navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
      var type = window.MediaRecorder.isTypeSupported("audio/webm;codecs=opus")
        ? "audio/webm;codecs=opus" : "";
      var media = new window.MediaRecorder(stream, type ? {mimeType: type} : {});
      var chunks = [];
      media.ondataavailable = function (event) { if (event.data.size) { chunks.push(event.data); } };
      var stopped = new Promise(function (resolve) {
        media.onstop = function () {
          stream.getTracks().forEach(function (track) { track.stop(); });
          resolve(new Blob(chunks, {type: media.mimeType || "audio/webm"}));
        };
      });
      media.start(250);
      recorder = {media: media, stopped: stopped, take: step.take};
      setState("recording", text("recording"));
    }, function () {
      log(text("nomic"));
      setState("error", text("nomic"));
    });
  }

  function stopRecording() {
    var current = recorder;
    recorder = null;
    if (!current) { return Promise.resolve(null); }
    if (current.media.state !== "inactive") { current.media.stop(); }
    return current.stopped;
  }

  /* --- the call ---------------------------------------------------------------------- */

  function send(event, digit) {
    queue = queue.then(function () { return sendNow(event, digit); }).catch(function (error) {
      log(error.message);
    });
    return queue;
  }

  function sendNow(event, digit) {
    if (!call || call.status === "ended") { return null; }
    generation += 1;
    window.clearTimeout(timer);
    window.clearTimeout(ringTimer);
    stopPlayback();
    return stopRecording().then(function (audio) {
      return request(call.events_url, "POST", {event: event, digit: digit || ""}, audio);
    }).then(function (data) { run(data.call); });
  }

  function run(view) {
    call = view;
    var mine = ++generation;
    panel.setAttribute("data-call", view.id);
    if (view.status !== "ringing") { setState("connected", text("connected")); }
    var chain = Promise.resolve();
    view.steps.forEach(function (step) {
      chain = chain.then(function () { return mine === generation ? perform(step, mine) : null; });
    });
    return chain.then(function () {
      if (mine === generation && view.status === "ended") { ended(view); }
    });
  }

  function perform(step, mine) {
    switch (step.do) {
      case "ring": return ring(step.seconds);
      case "play":
      case "play_take":
        if (!recorder) { setState("playing", text("playing")); }
        return play(step.url);
      case "tone": return tone(step.tone);
      case "missing": log("✗ " + step.name); return null;
      case "record": return startRecording(step);
      case "timer":
        timer = window.setTimeout(function () {
          if (mine === generation) { send("timer"); }
        }, step.seconds * 1000);
        return null;
      case "finished": panel.setAttribute("data-outcome", step.status); return null;
      default: return null;
    }
  }

  function ring(seconds) {
    stopPolling();
    setState("ringing", text("ringing"));
    el("softphone-ring").hidden = false;
    el("softphone-dial").disabled = true;  // one call at a time: answer or decline first
    ringTimer = window.setTimeout(function () { send("no_answer"); }, seconds * 1000);
    return tone("ring");
  }

  function answer(kind) {
    el("softphone-ring").hidden = true;
    context();  // a click: sound may start now
    keypad(kind === "answer");
    if (kind === "answer" && useRtc() && call && call.rtc_url) {
      startRtc(call.rtc_url);
      return;
    }
    send(kind);
  }

  /* --- a call over WebRTC: heard live, recorded on the server --------------------------- */

  function useRtc() { return !!(window.VaxelRtc && window.VaxelRtc.supported); }

  function startRtc(url) {
    generation += 1;  // the HTTP steps of this call stop here
    window.clearTimeout(timer);
    window.clearTimeout(ringTimer);
    stopPlayback();
    stopPolling();
    keypad(true);
    setState("connecting", text("connected"));
    return window.VaxelRtc.connect({
      url: url,
      csrf: panel.getAttribute("data-csrf"),
      loopback: panel.getAttribute("data-rtc-loopback") === "1",
      onState: rtcState,
      onNoMicrophone: function () {
        panel.setAttribute("data-microphone", "none");
        log(text("nomic-listen"));
        el("softphone-note").textContent = text("nomic-listen");
      },
      onFigures: function (f) {
        panel.setAttribute("data-heard-energy", String(f.energy));
        panel.setAttribute("data-heard-packets", String(f.packets));
        panel.setAttribute("data-candidates", JSON.stringify(f.exchanged.concat(f.pair)));
      }
    }).then(function (connected) { rtc = connected; }, function (error) {
      log(error.message);
      ended({outcome: "failed"});
    });
  }

  function rtcState(state, message) {
    if (state === "ended") { rtc = null; ended({outcome: message.outcome || ""}); return; }
    if (state === "connected" || state === "playing" || state === "recording") {
      setState(state, text(state));
    }
  }

  function ended(view) {
    window.clearTimeout(timer);
    keypad(false);
    el("softphone-ring").hidden = true;
    panel.setAttribute("data-outcome", view.outcome || "");
    var saved = view.outcome === "recorded";
    setState("ended", saved ? text("saved") : text("ended") + " (" + (view.outcome || "") + ")");
    log(saved ? text("saved") : text("ended"));
    call = null;
    startPolling();
  }

  function dial(number) {
    context();
    stopPolling();
    keypad(true);
    if (useRtc()) { startRtc(panel.getAttribute("data-rtc-dial-url")); return; }
    request(panel.getAttribute("data-dial-url"), "POST", {number: number}).then(function (data) {
      run(data.call);
    }).catch(function (error) { log(error.message); keypad(false); startPolling(); });
  }

  /* --- waiting for the switchboard's calls ------------------------------------------- */

  function poll() {
    if (call) { return; }
    request(panel.getAttribute("data-incoming-url"), "GET").then(function (data) {
      if (data.call && !call) { run(data.call); }
    }).catch(function () { /* try again on the next tick */ });
  }

  function startPolling() {
    if (!polling) { polling = window.setInterval(poll, 1500); }
  }

  function stopPolling() {
    if (polling) { window.clearInterval(polling); polling = null; }
  }

  el("softphone-answer").addEventListener("click", function () { answer("answer"); });
  el("softphone-decline").addEventListener("click", function () { answer("decline"); });
  el("softphone-hangup").addEventListener("click", function () {
    if (rtc) { rtc.hangUp(); } else { send("hangup"); }
  });
  el("softphone-dial").addEventListener("click", function () {
    dial(el("softphone-dial").getAttribute("data-number"));
  });
  panel.querySelectorAll("[data-key]").forEach(function (button) {
    button.addEventListener("click", function () {
      context();
      if (rtc) { rtc.press(button.getAttribute("data-key")); return; }
      send("dtmf", button.getAttribute("data-key"));
    });
  });

  setState("idle", text("idle"));
  panel.setAttribute("data-ready", "1");  // listeners attached: the buttons work now
  var watch = panel.getAttribute("data-watch");
  if (watch) {
    var url = panel.getAttribute("data-call-url").replace("TOKEN", watch);
    request(url, "GET").then(function (data) { run(data.call); }, startPolling);
  } else {
    startPolling();
    poll();
  }
}());
