// Quick exit: the button, or Escape pressed three times, replaces this page with a neutral
// site. location.replace leaves no entry to come back to with the back button, and the
// session is ended, so any earlier page of shuttle in the history asks to sign in again.
(function () {
  "use strict";
  var target = document.body.getAttribute("data-quick-exit");
  if (!target) { return; }
  function signOut() {
    // End the session too, so the back button finds only the sign-in page.
    var token = document.querySelector("form[action='/logout'] input[name='csrf_token']");
    if (token && navigator.sendBeacon) {
      navigator.sendBeacon("/logout", new URLSearchParams({ csrf_token: token.value }));
    }
  }
  function leave(event) {
    if (event) { event.preventDefault(); }
    signOut();
    try { window.sessionStorage.clear(); } catch (e) { /* storage may be off */ }
    document.body.innerHTML = "";
    document.title = "";
    window.location.replace(target);
  }
  var button = document.getElementById("quick-exit");
  if (button) { button.addEventListener("click", leave); }
  var presses = [];
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < 2000; });
    presses.push(now);
    if (presses.length >= 3) { leave(event); }
  });
})();

// An error summary takes the focus when the page opens, so it is read out first (GOV.UK pattern).
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary) { summary.focus(); }
})();
