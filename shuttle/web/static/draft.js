// Autosave of a draft (a letter, or the words of a recording) and the flags its author sees.
//
// A few seconds after typing stops, the text is saved (encrypted on the server) with
// PUT /api/v1/messages/{id}/draft and the message's version; "Saved at 14:02" says so.
// If the version moved on (another tab saved), the current version is fetched and the save
// tried again. Then the contact details found in the saved text are shown, as the
// facilitator will see them (contact details only: the case's watch list is never used for
// authors). On the "write a letter" page the draft is created first (a reply's with what it answers).
// Without JavaScript the same form posts and saves: this only adds to it.
(function () {
  "use strict";
  var DELAY = 2500;
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch) { return; }
  var field = form.querySelector("[data-autosave-field]");
  var status = document.getElementById("save-status");
  var flagsBox = document.getElementById("draft-flags");
  var csrf = form.querySelector("input[name='csrf_token']").value;
  var messageId = form.getAttribute("data-message-id") || "";
  var caseId = form.getAttribute("data-case-id") || "";
  var replyTo = form.getAttribute("data-reply-to") || "";  // a reply: the message it answers
  var timer = null;
  var inFlight = null;
  var lastSaved = field.defaultValue;  // what the page came with: words typed before this ran are not saved yet
  var stopped = false;
  var creating = null;  // the words of a new letter while its draft is being created

  function hidden(name, value) {
    var input = form.querySelector("input[name='" + name + "']");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }
  var t = window.shuttleWords;  // the page's language (shuttle.js)
  function say(text) { if (status) { status.textContent = text; } }
  function clock() {
    var now = new Date();
    return String(now.getHours()).padStart(2, "0") + ":" + String(now.getMinutes()).padStart(2, "0");
  }
  function api(method, path, body) {
    var options = { method: method, credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": csrf } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch("/api/v1" + path, options).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        return { status: res.status, data: data };
      });
    });
  }

  function showFlags(flags, key) {
    hidden("flags_key", key);
    if (!flagsBox) { return; }
    var list = flagsBox.querySelector("ul");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    flags.forEach(function (flag) {
      var item = document.createElement("li");
      var strong = document.createElement("strong");
      strong.textContent = flag.text;
      item.appendChild(strong);
      item.appendChild(document.createTextNode(": " + flag.why));
      list.appendChild(item);
    });
    flagsBox.hidden = flags.length === 0;
  }

  // Checked too often (429): keep what is shown and check again when the server says it may.
  // Sending is safe meanwhile: the server checks the words again and shows anything new first.
  var flagsRetry = null;
  function refreshFlags() {
    return fetch("/api/v1/messages/" + messageId + "/draft/flags", { credentials: "same-origin",
      headers: { "Accept": "application/json" } }).then(function (res) {
      if (res.status === 429) {
        var wait = parseInt(res.headers.get("Retry-After") || "60", 10);
        if (!flagsRetry) {
          flagsRetry = setTimeout(function () { flagsRetry = null; refreshFlags(); }, Math.max(wait, 1) * 1000);
        }
        return;
      }
      if (res.status !== 200) { return; }
      return res.json().then(function (data) { showFlags(data.flags, data.key); });
    }).catch(function () { /* no connection: the next save checks again */ });
  }

  function create(text) {
    var body = { text: text };
    if (replyTo) { body.in_reply_to = replyTo; }
    return api("POST", "/cases/" + caseId + "/messages", body).then(function (answer) {
      if (answer.status !== 201) { throw answer; }
      messageId = answer.data.id;
      // From now on the form saves this draft, with or without JavaScript.
      form.setAttribute("action", "/me/messages/" + messageId);
      form.setAttribute("data-message-id", messageId);
      hidden("version", answer.data.version);
      hidden("action", "save");
      if (window.history && window.history.replaceState) {
        window.history.replaceState(null, "", "/me/messages/" + messageId);
      }
      return answer;
    });
  }

  function put(text, retried) {
    var version = form.querySelector("input[name='version']");
    var body = { text: text };
    if (version && version.value) { body.version = Number(version.value); }
    return api("PUT", "/messages/" + messageId + "/draft", body).then(function (answer) {
      if (answer.status === 200) {
        hidden("version", answer.data.version);
        return answer;
      }
      if (answer.status === 409 && answer.data.error === "stale" && !retried) {
        // Saved elsewhere meanwhile (another tab, or an upload finished): take the current version.
        return api("GET", "/messages/" + messageId).then(function (current) {
          if (current.status !== 200) { throw current; }
          hidden("version", current.data.version);
          return put(text, true);
        });
      }
      throw answer;
    });
  }

  function save() {
    timer = null;
    if (stopped || inFlight) { return inFlight || Promise.resolve(); }
    var text = field.value;
    if (text === lastSaved || (!messageId && !text.trim())) { return Promise.resolve(); }
    creating = messageId ? null : text;
    var step = messageId ? put(text, false) : create(text);
    inFlight = step.then(function () {
      lastSaved = text;
      say(t("Saved at {time}", { time: clock() }));
      return refreshFlags();
    }).catch(function (failure) {
      if (failure && failure.status === 401) {
        stopped = true;
        say(t("Not saved: you have been signed out. Copy your text somewhere safe, then sign in again."));
      } else if (failure && failure.status === 409) {
        stopped = true;
        say(t("Not saved: this can no longer be changed here. Reload the page to see where it is."));
      } else if (failure && failure.status === 413) {
        say(t("Not saved: this is too long. Shorten it, and it is saved as you type."));
      } else if (failure && failure.status >= 400 && failure.status < 500 && failure.data) {
        say(t("Not saved: {reason}", { reason: failure.data.message || t("please check your text.") }));
      } else {
        say(t("Not saved yet: no connection. We will try again in a moment."));
        schedule(10000);
      }
    }).then(function () {
      inFlight = null;
      creating = null;
      if (!stopped && field.value !== lastSaved && !timer) { schedule(DELAY); }
    });
    return inFlight;
  }

  function schedule(delay) {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(save, delay);
  }

  field.addEventListener("input", function () {
    if (stopped) { return; }
    say("");
    schedule(DELAY);
  });
  // Typed (or pasted) before this script ran, as on a slow phone: saved like any other words.
  if (field.value !== lastSaved) { schedule(DELAY); }

  // Before the form posts: never while a save is on its way (its new version is needed).
  form.addEventListener("submit", function (event) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (inFlight) {
      event.preventDefault();
      var submitter = event.submitter;
      inFlight.then(function () {
        if (!form.requestSubmit) { form.submit(); } else if (submitter) { form.requestSubmit(submitter); } else { form.requestSubmit(); }
      });
    }
  });

  // The quick exit asks what is not saved yet, to send it with the sign-out (shuttle.js):
  // the draft's id, or for a new letter the case (and what a reply answers), and the words.
  // Nothing once signed out.
  window.shuttlePendingDraft = function () {
    var text = field.value;
    if (stopped || text === lastSaved || text === creating || (!messageId && !text.trim())) { return null; }
    if (messageId) { return { message_id: messageId, text: text }; }
    return replyTo ? { case_id: caseId, reply_to: replyTo, text: text } : { case_id: caseId, text: text };
  };

  // Others (the upload of a recording) ask for the words to be saved before reloading the page:
  // wait for any save on its way, save what is in the field now, and say so if that failed.
  window.shuttleSaveDraft = function () {
    if (timer) { clearTimeout(timer); timer = null; }
    return (inFlight || Promise.resolve()).then(function () {
      stopped = false;  // the upload itself may have moved the message's version on: try again
      return save();
    }).then(function () {
      if (field.value !== lastSaved) {
        throw new Error(t("Your words were not saved. Copy them somewhere safe, then reload the page."));
      }
    });
  };
})();

// The live count under the words (GOV.UK's character count, in words): what is left of the
// limit, which is in bytes of UTF-8, said as "about 2,000 words" (common.py rounds the same
// way). Screen readers hear it once typing pauses, not at every key.
(function () {
  "use strict";
  var count = document.getElementById("text-count");
  var field = document.getElementById("text");
  if (!count || !field || !window.TextEncoder) { return; }
  var max = Number(count.getAttribute("data-max-bytes"));
  var perWord = Number(count.getAttribute("data-bytes-per-word"));
  var encoder = new TextEncoder();
  var live = document.createElement("p");
  live.className = "visually-hidden";
  live.setAttribute("aria-live", "polite");
  count.parentNode.insertBefore(live, count.nextSibling);
  var pause = null;
  var t = window.shuttleWords;  // the page's language (shuttle.js)

  function about(bytes) {
    var words = Math.max(1, Math.round(bytes / perWord));
    var step = words >= 2000 ? 1000 : words >= 200 ? 100 : words >= 20 ? 10 : 1;
    var rounded = Math.max(step, Math.round(words / step) * step);
    var number = rounded.toLocaleString("en-GB");  // 10,000 in Welsh too
    return rounded === 1 ? t("about {count} word", { count: number }) : t("about {count} words", { count: number });
  }
  function words() {
    var used = encoder.encode(field.value).length;
    if (used === 0) { return t("Up to {words}.", { words: about(max) }); }
    if (used <= max) { return t("You have {words} left.", { words: about(max - used) }); }
    return t("This is {words} too long.", { words: about(used - max) });
  }
  function show() {
    var text = words();
    count.textContent = text;
    count.classList.toggle("error-message", encoder.encode(field.value).length > max);
    return text;
  }
  field.addEventListener("input", function () {
    var text = show();
    if (pause) { clearTimeout(pause); }
    pause = setTimeout(function () { live.textContent = text; }, 1000);
  });
  show();
})();
