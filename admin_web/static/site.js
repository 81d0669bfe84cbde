// Växel admin site: small progressive enhancements (the pages work without them).
// Loaded from our own origin: the CSP allows no inline script.
"use strict";

// The menu's <details> drop-downs: one open at a time, closed by a click elsewhere or Escape.
function setUpMenu() {
  const groups = Array.from(document.querySelectorAll("details.navgroup"));
  groups.forEach((group) => {
    group.addEventListener("toggle", () => {
      if (group.open) groups.filter((g) => g !== group).forEach((g) => { g.open = false; });
    });
  });
  document.addEventListener("click", (event) => {
    groups.forEach((g) => { if (!g.contains(event.target)) g.open = false; });
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") groups.forEach((g) => { g.open = false; });
  });
}

// Destination pickers: show only the field the chosen kind uses.
function setUpTargetPickers() {
  document.querySelectorAll("[data-target-picker]").forEach((picker) => {
    const select = picker.querySelector("[data-kind-select]");
    const update = () => {
      picker.querySelectorAll(".target-part").forEach((part) => {
        part.hidden = part.dataset.kind !== select.value;
      });
    };
    select.addEventListener("change", update);
    update();
  });
}

// Test call keypad: the keys type into the DTMF field.
function setUpKeypad() {
  const field = document.getElementById("f-keys");
  if (!field) return;
  document.querySelectorAll("[data-key]").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.dataset.key === "clear") field.value = "";
      else if (field.value.length < 32) field.value += button.dataset.key;
      field.dispatchEvent(new Event("input"));
    });
  });
}

// Test call trace: "Play the call" plays each prompt in order, marking the current step.
function setUpTracePlayer() {
  const button = document.getElementById("play-call");
  if (!button) return;
  const steps = Array.from(document.querySelectorAll(".trace li"));
  button.hidden = false;
  button.addEventListener("click", () => playFrom(steps, 0));
}

function playFrom(steps, index) {
  steps.forEach((s) => s.classList.remove("playing"));
  if (index >= steps.length) return;
  const step = steps[index];
  step.classList.add("playing");
  step.scrollIntoView({ block: "nearest" });
  const audio = step.querySelector("audio");
  if (!audio) {
    window.setTimeout(() => playFrom(steps, index + 1), 600);
    return;
  }
  audio.currentTime = 0;
  const next = () => playFrom(steps, index + 1);
  audio.addEventListener("ended", next, { once: true });
  audio.addEventListener("error", next, { once: true });
  audio.play().catch(next);
}

document.addEventListener("DOMContentLoaded", () => {
  setUpMenu();
  setUpTargetPickers();
  setUpKeypad();
  setUpTracePlayer();
});
