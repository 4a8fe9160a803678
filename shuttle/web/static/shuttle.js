// The words the page's scripts say, in the page's language (issue 12): base.html renders them,
// translated, as JSON keyed by the English (_script_words.html); a word not there stays English.
// shuttleWords("Recording {time}", { time: "0:42" }) fills in the named places.
window.shuttleWords = (function () {
  "use strict";
  var table = {};
  var element = document.getElementById("script-words");
  try { table = element ? JSON.parse(element.textContent) : {}; } catch (e) { table = {}; }
  return function (english, values) {
    var text = table[english] || english;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  };
})();

// Quick exit, as GOV.UK's "Exit this page" component: the button, or the Shift key pressed
// three times on its own (Escape three times works too), replaces this page with a neutral
// site. location.replace leaves no entry to come back to with the back button, and the
// session is ended, so any earlier page of shuttle in the history asks to sign in again.
// Words typed since the last autosave go with the sign-out, in the same request, so that
// they are saved before the session ends; nothing waits for the answer.
(function () {
  "use strict";
  var target = document.body.getAttribute("data-quick-exit");
  if (!target) { return; }
  var SHIFT_WINDOW = 5000;
  var ESCAPE_WINDOW = 2000;
  var gone = false;

  function post(url, fields) {
    var body = new URLSearchParams(fields);
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(url, body)) { return true; }
    } catch (e) { /* too large for a beacon, or beacons are off: try keepalive */ }
    if (!window.fetch) { return false; }
    try {
      fetch(url, { method: "POST", body: body, credentials: "same-origin", keepalive: true }).catch(function () {});
      return true;
    } catch (e) {
      return false;
    }
  }

  function signOut() {
    var token = document.querySelector("form[action='/logout'] input[name='csrf_token']");
    if (!token) { return; }
    var pending = window.shuttlePendingDraft ? window.shuttlePendingDraft() : null;
    if (pending) {
      pending.csrf_token = token.value;
      if (post("/me/exit", pending)) { return; }
    }
    post("/logout", { csrf_token: token.value });
  }

  function leave(event) {
    if (gone) { return; }
    gone = true;
    if (event) { event.preventDefault(); }
    signOut();
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be off */ }
    document.body.innerHTML = "";
    document.title = "";
    window.location.replace(target);
  }

  var button = document.getElementById("quick-exit");
  if (button) { button.addEventListener("click", leave); }
  var announce = document.getElementById("quick-exit-keys");
  function say(text) { if (announce) { announce.textContent = text; } }

  // Shift on its own, three times within 5 seconds (GOV.UK): counted when it is let go, and only
  // if the key before it was not typed with Shift held (a capital letter); any other key starts again.
  var shifts = 0;
  var shiftTimer = null;
  var lastWasShifted = false;
  function resetShifts() {
    shifts = 0;
    if (shiftTimer) { clearTimeout(shiftTimer); shiftTimer = null; }
    say("");
  }
  document.addEventListener("keyup", function (event) {
    if (event.key === "Shift" && !lastWasShifted) {
      shifts += 1;
      if (shifts >= 3) { resetShifts(); leave(event); return; }
      say(shifts === 2 ? window.shuttleWords("Shift, press 1 more time to exit.")
        : window.shuttleWords("Shift, press 2 more times to exit."));
      if (!shiftTimer) { shiftTimer = setTimeout(resetShifts, SHIFT_WINDOW); }
    } else if (event.key !== "Shift" && shifts) {
      resetShifts();
    }
    lastWasShifted = event.shiftKey;
  }, true);

  var escapes = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    escapes = escapes.filter(function (t) { return now - t < ESCAPE_WINDOW; });
    escapes.push(now);
    if (escapes.length >= 3) { leave(event); }
  });
})();

// An error summary takes the focus when the page opens, so it is read out first (GOV.UK pattern).
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
