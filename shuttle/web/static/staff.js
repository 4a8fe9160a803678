// The facilitators' pages, a little better with JavaScript (everything works without it):
// - times shown in the facilitator's own time zone;
// - "Use the player's time" fills an edit time field from the player's position;
// - "Replace the selected words with [removed]" in the letter editor;
// - the release time is sent with the browser's time zone offset;
// - processing progress moves without reloading (polling the message's JSON, which reads
//   no content and so adds nothing to the audit log);
// - keyboard shortcuts on the review page (listed on it): a approve, c request changes, n and j
//   next, k previous in the queue; ignored while typing in a field or with a modifier key.
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function localTimes(root) {
    var format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
    root.querySelectorAll("time[data-local-time]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (isNaN(when.getTime())) { return; }
      el.setAttribute("title", el.textContent);
      el.textContent = format.format(when);
    });
  }

  function offsetWords(minutes) {
    var sign = minutes <= 0 ? "+" : "-";
    var abs = Math.abs(minutes);
    return "UTC" + sign + pad(Math.floor(abs / 60)) + ":" + pad(abs % 60);
  }

  function scheduleForms() {
    document.querySelectorAll("form[data-schedule]").forEach(function (form) {
      var input = form.querySelector("input[type=datetime-local]");
      var offset = form.querySelector("input[name=tz_offset]");
      var hint = form.querySelector("[data-tz-hint]");
      if (!input || !offset) { return; }
      if (hint) {
        hint.textContent = "Date and time in your time zone (" + offsetWords(new Date().getTimezoneOffset()) + ").";
      }
      var utc = input.getAttribute("data-utc-value");
      if (utc) {
        var d = new Date(utc);
        if (!isNaN(d.getTime())) {
          input.value = d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" +
            pad(d.getHours()) + ":" + pad(d.getMinutes());
        }
      }
      form.addEventListener("submit", function () {
        var chosen = new Date(input.value); // "YYYY-MM-DDTHH:MM" is read as local time
        offset.value = isNaN(chosen.getTime()) ? "" : String(chosen.getTimezoneOffset());
      });
    });
  }

  function timeButtons() {
    document.querySelectorAll("button[data-time-for]").forEach(function (button) {
      var player = document.getElementById(button.getAttribute("data-player"));
      var field = document.getElementById(button.getAttribute("data-time-for"));
      if (!player || !field || typeof player.currentTime !== "number") { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        field.value = (Math.round(player.currentTime * 10) / 10).toString();
      });
    });
  }

  function redactButtons() {
    // A textarea keeps its selection when the button takes the focus: replace exactly that.
    document.querySelectorAll("button[data-redact]").forEach(function (button) {
      var area = document.getElementById(button.getAttribute("data-redact"));
      if (!area || typeof area.setRangeText !== "function") { return; }
      button.hidden = false;
      button.addEventListener("click", function () {
        var start = area.selectionStart, end = area.selectionEnd;
        if (end > start) { area.setRangeText("[removed]", start, end, "end"); }
        area.focus();
      });
    });
  }

  // --- processing progress ----------------------------------------------------------------
  var BUSY = { submitted: true, processing: true };

  function poll(messageId, onUpdate) {
    var stopped = false;
    function once() {
      if (stopped) { return; }
      if (document.hidden) { window.setTimeout(once, 3000); return; }
      fetch("/api/v1/messages/" + encodeURIComponent(messageId), { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (m) {
          if (!m) { stopped = true; return; }
          if (onUpdate(m) === false) { stopped = true; return; }
          window.setTimeout(once, 3000);
        })
        .catch(function () { window.setTimeout(once, 10000); });
    }
    window.setTimeout(once, 3000);
  }

  function showProgress(container, m) {
    var bar = container.querySelector("progress");
    var label = container.querySelector("[data-progress-label]");
    var pct = m.processing && m.processing.progress;
    if (bar && typeof pct === "number") { bar.value = pct; bar.textContent = pct + "%"; }
    if (label && typeof pct === "number") { label.textContent = pct + "%"; }
  }

  function dirty() {
    return Array.prototype.some.call(document.querySelectorAll("textarea, input:not([type=hidden])"), function (el) {
      return el.type === "radio" || el.type === "checkbox" ? el.checked !== el.defaultChecked : el.value !== el.defaultValue;
    });
  }

  function watchReview() {
    var box = document.querySelector("[data-watch-processing]");
    if (!box) { return; }
    poll(box.getAttribute("data-watch-processing"), function (m) {
      showProgress(box, m);
      if (BUSY[m.state] || (m.state === "held" && BUSY[m.held_from])) { return true; }
      if (!dirty()) { window.location.reload(); return false; }
      box.textContent = "Ready. Reload the page to see it.";
      return false;
    });
  }

  function watchQueue() {
    document.querySelectorAll("li[data-processing]").forEach(function (item) {
      poll(item.getAttribute("data-processing"), function (m) {
        showProgress(item, m);
        if (BUSY[m.state]) { return true; }
        // Done (or failed): fetch the dashboard once and swap in this item as it is now.
        fetch(window.location.pathname, { headers: { Accept: "text/html" } })
          .then(function (r) { return r.ok ? r.text() : null; })
          .then(function (html) {
            if (!html) { return; }
            var fresh = new DOMParser().parseFromString(html, "text/html").getElementById(item.id);
            if (!fresh || item.contains(document.activeElement)) { return; }
            var node = document.importNode(fresh, true);
            item.replaceWith(node);
            localTimes(node);
          });
        return false;
      });
    });
  }

  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  function shortcuts() {
    if (!document.getElementById("shortcuts")) { return; }
    var keys = { a: "a", c: "c", n: "n", j: "n", k: "k" };
    document.addEventListener("keydown", function (event) {
      if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) { return; }
      var wanted = keys[event.key];
      if (!wanted) { return; }
      if (wanted === "c") {
        var note = document.querySelector("[data-shortcut-target=c]");
        if (!note) { return; }
        event.preventDefault();
        note.scrollIntoView({ block: "center" });
        note.focus();
        return;
      }
      var link = document.querySelector("a[data-shortcut=" + wanted + "]");
      if (!link) { return; }
      event.preventDefault();
      window.location.assign(link.href);
    });
  }

  localTimes(document);
  shortcuts();
  scheduleForms();
  timeButtons();
  redactButtons();
  watchReview();
  watchQueue();
})();
