/* A call carried over WebRTC (window.VaxelRtc.connect): the switchboard's audio is heard
   live, keys go over a DataChannel (the switchboard's WebRTC end has no telephone-event),
   and the microphone is opened only while the switchboard records, so nothing else is ever
   sent. A browser without a microphone, or one that refuses it, still hears the call
   (recvonly). The signalling is one POST of the offer (ICE gathered first, no trickle) with
   the page's CSRF token; the answer comes back in the response. No inline script (CSP). */
(function () {
  "use strict";

  // Faithful audio: no echo cancellation, noise suppression or automatic gain.
  var CONSTRAINTS = {audio: {echoCancellation: false, noiseSuppression: false,
                             autoGainControl: false, channelCount: 1}};

  function candidateAddresses(sdp) {
    var found = [];
    sdp.split(/\r?\n/).forEach(function (line) {
      var parts = line.indexOf("a=candidate:") === 0 ? line.split(" ") : null;
      if (parts && parts.length > 4) { found.push(parts[4]); }
    });
    return found;
  }

  function onlyLoopback(sdp) {
    return sdp.split("\r\n").filter(function (line) {
      if (line.indexOf("a=candidate:") !== 0) { return true; }
      return candidateAddresses(line)[0] === "127.0.0.1";
    }).join("\r\n");
  }

  function probeMicrophone() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return Promise.resolve(false);
    }
    return navigator.mediaDevices.getUserMedia(CONSTRAINTS).then(function (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      return true;
    }, function () { return false; });
  }

  function gathered(pc) {
    if (pc.iceGatheringState === "complete") { return Promise.resolve(); }
    return new Promise(function (resolve) {
      var done = function () {
        if (pc.iceGatheringState === "complete") { resolve(); }
      };
      pc.addEventListener("icegatheringstatechange", done);
      window.setTimeout(resolve, 3000);  // whatever was gathered by then
    });
  }

  function post(url, csrf, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Accept": "application/json", "Content-Type": "application/json",
                "X-CSRFToken": csrf},
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) { throw new Error(data.error || String(response.status)); }
        return data;
      });
    });
  }

  /* options: url, csrf, loopback, onState(state, message), onNoMicrophone(), onFigures(f) */
  function connect(options) {
    var pc = new RTCPeerConnection({iceServers: []});
    var channel = pc.createDataChannel("keys");
    var transceiver = null;
    var microphone = null;
    var ended = false;
    var exchanged = [];
    var player = new Audio();
    var statsTimer = null;
    player.autoplay = true;

    function end(message) {
      if (ended) { return; }
      ended = true;
      closeMicrophone();
      window.clearInterval(statsTimer);
      report().then(function () {
        pc.close();
        options.onState("ended", message || {});
      });
    }

    function openMicrophone() {
      if (!transceiver || transceiver.direction !== "sendrecv" || microphone) { return; }
      navigator.mediaDevices.getUserMedia(CONSTRAINTS).then(function (stream) {
        microphone = stream.getAudioTracks()[0];
        if (ended) { closeMicrophone(); return; }
        transceiver.sender.replaceTrack(microphone);
      }, function () { options.onNoMicrophone(); });
    }

    function closeMicrophone() {
      if (!microphone) { return; }
      microphone.stop();
      microphone = null;
      if (transceiver && !ended) { transceiver.sender.replaceTrack(null); }
    }

    function report() {
      return pc.getStats().then(function (stats) {
        var figures = {energy: 0, packets: 0, pair: []};
        var candidates = {};
        stats.forEach(function (s) {
          if (s.type === "inbound-rtp" && s.kind === "audio") {
            figures.energy = s.totalAudioEnergy || 0;
            figures.packets = s.packetsReceived || 0;
          }
          if (s.type === "local-candidate" || s.type === "remote-candidate") {
            candidates[s.id] = s.address || s.ip;
          }
          if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") {
            figures.pairIds = [s.localCandidateId, s.remoteCandidateId];
          }
        });
        if (figures.pairIds) {
          figures.pair = figures.pairIds.map(function (id) { return candidates[id]; });
        }
        figures.exchanged = exchanged;
        options.onFigures(figures);
      }, function () { /* closed meanwhile */ });
    }

    channel.onmessage = function (event) {
      var message = JSON.parse(event.data);
      // The microphone is open while the switchboard records: from "recording" until
      // something is played again or the call ends ("waiting" is a timer, not an end).
      if (message.state === "recording") { openMicrophone(); }
      if (message.state === "playing" || message.state === "ringing") { closeMicrophone(); }
      if (message.state === "ended") { end(message); return; }
      options.onState(message.state, message);
    };
    pc.ontrack = function (event) {
      player.srcObject = event.streams[0] || new MediaStream([event.track]);
      var started = player.play();
      if (started && started.catch) { started.catch(function () {}); }
    };
    pc.onconnectionstatechange = function () {
      if (pc.connectionState === "connected") {
        options.onState("connected", {});
        statsTimer = window.setInterval(report, 500);
      } else if (pc.connectionState === "failed" || pc.connectionState === "closed") {
        end({});
      }
    };

    var call = {
      press: function (key) { if (channel.readyState === "open") { channel.send(key); } },
      hangUp: function () {
        if (channel.readyState === "open") { channel.send("hangup"); }
        window.setTimeout(function () { end({}); }, 1500);  // if the switchboard says nothing
      }
    };
    return probeMicrophone().then(function (canSpeak) {
      if (!canSpeak) { options.onNoMicrophone(); }
      transceiver = pc.addTransceiver("audio", {direction: canSpeak ? "sendrecv" : "recvonly"});
      return pc.createOffer();
    }).then(function (offer) {
      return pc.setLocalDescription(offer);
    }).then(function () {
      return gathered(pc);
    }).then(function () {
      var sdp = pc.localDescription.sdp;
      if (options.loopback) { sdp = onlyLoopback(sdp); }
      exchanged = candidateAddresses(sdp);
      return post(options.url, options.csrf, {type: "offer", sdp: sdp});
    }).then(function (data) {
      exchanged = exchanged.concat(candidateAddresses(data.answer.sdp));
      return pc.setRemoteDescription(data.answer);
    }).then(function () { return call; }, function (error) {
      ended = true;
      pc.close();
      throw error;
    });
  }

  window.VaxelRtc = {connect: connect, supported: !!window.RTCPeerConnection};

  /* "Ring upp" on the test-call page. */
  var panel = document.getElementById("ring-up");
  if (!panel) { return; }
  var current = null;
  function el(id) { return document.getElementById(id); }
  function text(name) { return panel.getAttribute("data-text-" + name) || name; }
  function setState(state) {
    panel.setAttribute("data-state", state);
    el("ring-up-status").textContent = text(state);
  }
  function buttons(inCall) {
    panel.querySelectorAll("[data-rtc-key]").forEach(function (b) { b.disabled = !inCall; });
    el("ring-up-hangup").disabled = !inCall;
    el("ring-up-call").disabled = inCall;
  }
  el("ring-up-call").addEventListener("click", function () {
    var number = el("ring-up-number").value;
    buttons(true);
    setState("calling");
    connect({
      url: panel.getAttribute("data-url").replace("NUMBER", encodeURIComponent(number)),
      csrf: panel.getAttribute("data-csrf"),
      loopback: panel.getAttribute("data-loopback") === "1",
      onState: function (state, message) {
        if (state === "ended") {
          current = null;
          buttons(false);
          panel.setAttribute("data-outcome", message.outcome || "");
        }
        if (text(state) !== state) { setState(state); }
      },
      onNoMicrophone: function () { el("ring-up-note").textContent = text("nomic"); },
      onFigures: function (f) {
        panel.setAttribute("data-heard-energy", String(f.energy));
        panel.setAttribute("data-heard-packets", String(f.packets));
        panel.setAttribute("data-candidates", JSON.stringify(f.exchanged.concat(f.pair)));
      }
    }).then(function (call) { current = call; }, function (error) {
      el("ring-up-note").textContent = error.message;
      buttons(false);
      setState("ended");
    });
  });
  el("ring-up-hangup").addEventListener("click", function () { if (current) { current.hangUp(); } });
  panel.querySelectorAll("[data-rtc-key]").forEach(function (button) {
    button.addEventListener("click", function () {
      if (current) { current.press(button.getAttribute("data-rtc-key")); }
    });
  });
  buttons(false);
  panel.setAttribute("data-ready", "1");
}());
