// Resumable upload of a recording or photo (tus 1.0.0) from the participant's page.
// The file (or a recording made in the browser) goes up in 5 MiB pieces; after a dropped
// connection it asks the server how far it got and carries on from there. Nothing but the
// bytes and the message id are sent: never the file's name. Where an upload got to is kept
// in sessionStorage (gone when the tab closes: no trace on a shared computer). A recording made
// on the page goes up while it is being made (window.shuttleLive, used by record.js).
(function () {
  "use strict";
  var CHUNK = 5 * 1024 * 1024;
  var form = document.getElementById("media-upload");
  if (!form || !window.fetch) { return; }
  var input = document.getElementById("media-file");
  var box = document.getElementById("upload-box");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var messageId = form.getAttribute("data-message-id");
  var csrf = form.getAttribute("data-csrf");
  var storeKey = "shuttle-upload-" + messageId;
  var busy = false;

  function headers(extra) {
    var h = { "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrf };
    for (var k in extra) { h[k] = extra[k]; }
    return h;
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  var t = window.shuttleWords;  // the page's language (shuttle.js)
  function say(text) { status.textContent = text; }
  function remembered() {
    try { return JSON.parse(sessionStorage.getItem(storeKey) || "null"); } catch (e) { return null; }
  }
  function remember(value) {
    try {
      if (value) { sessionStorage.setItem(storeKey, JSON.stringify(value)); } else { sessionStorage.removeItem(storeKey); }
    } catch (e) { /* storage may be off: the upload still works, it only cannot resume after a reload */ }
  }

  async function create(size) {
    var res = await fetch("/api/v1/uploads", { method: "POST", credentials: "same-origin",
      headers: headers({ "Upload-Length": String(size), "Upload-Metadata": "message_id " + btoa(messageId) }) });
    if (res.status !== 201) {
      var data = await res.json().catch(function () { return {}; });
      throw new Error(data.message || t("The upload could not start."));
    }
    return res.headers.get("Location");
  }
  async function offsetOf(url) {
    var res = await fetch(url, { method: "HEAD", credentials: "same-origin", headers: headers({}) });
    if (res.status !== 200) { return null; }
    return Number(res.headers.get("Upload-Offset"));
  }
  function progress(done, size) {
    bar.value = size ? done / size : 1;
    bar.setAttribute("aria-valuetext", Math.floor(100 * (size ? done / size : 1)) + "%");
  }

  // Upload a File or Blob for this message; resolves when the server has all of it.
  async function send(blob) {
    var saved = remembered();
    var url = saved && saved.size === blob.size ? saved.url : null;
    var offset = url ? await offsetOf(url).catch(function () { return null; }) : null;
    if (offset === null) { url = await create(blob.size); offset = 0; }
    remember({ url: url, size: blob.size });
    box.hidden = false;
    var failures = 0;
    while (offset < blob.size) {
      progress(offset, blob.size);
      say(t("Uploading: {percent}", { percent: Math.floor(100 * offset / blob.size) + "%" }));
      try {
        var res = await fetch(url, { method: "PATCH", credentials: "same-origin", body: blob.slice(offset, offset + CHUNK),
          headers: headers({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }) });
        if (res.status === 204) { offset = Number(res.headers.get("Upload-Offset")); failures = 0; continue; }
        if (res.status !== 409 && res.status < 500) {
          var data = await res.json().catch(function () { return {}; });
          throw new Error(data.message || t("The upload was refused."));
        }
      } catch (err) {
        if (!(err instanceof TypeError)) { throw err; }  // TypeError: the connection dropped
      }
      failures += 1;
      if (failures > 10) { throw new Error(t("The connection keeps dropping. Try again later; what arrived is kept.")); }
      say(t("Connection lost; trying again…"));
      await sleep(Math.min(1000 * Math.pow(2, failures), 30000));
      var now = await offsetOf(url).catch(function () { return null; });
      if (now !== null) { offset = now; }
    }
    remember(null);
    progress(1, 1);
  }

  // Once the server has all of it: save the words typed so far, then show the page again with the
  // upload in place.
  function uploaded() {
    say(t("Uploaded. Just a moment…"));
    var saveWords = window.shuttleSaveDraft ? window.shuttleSaveDraft() : Promise.resolve();
    return Promise.resolve(saveWords).then(function () {
      // The confirmation is shown once (pages/participants.py DONE_COOKIE), not again on reload.
      document.cookie = "shuttle_done=uploaded; path=/me; max-age=300; samesite=strict";
      window.location.replace("/me/messages/" + messageId + "?done=uploaded");
    }, function (unsaved) {  // the upload is kept; the words must not be lost by reloading
      busy = false;
      say(unsaved.message || t("Your words were not saved. Copy them somewhere safe, then reload the page."));
    });
  }

  function upload(blob) {
    if (busy) { return Promise.resolve(); }
    busy = true;
    return send(blob).then(function () {
      var mark = liveRemembered();  // a file instead of a recording a reload interrupted: that one goes
      if (mark && mark.url) { new Live(mark.url, 0, 0).discard(); }
      return uploaded();
    }).catch(function (err) {
      busy = false;
      say(err.message || t("The upload failed."));
      throw err;
    });
  }

  // A recording sent while it is being made (tus creation-defer-length): each piece MediaRecorder
  // hands over is appended as it comes, and the last request tells the length. The pieces wait in
  // this page's memory only until the server has them. sessionStorage keeps the upload's address
  // and how many seconds the server holds (never the bytes), so that after a reload the page can
  // offer what was saved; it is removed once the recording is used or discarded.
  var liveKey = "shuttle-recording-" + messageId;
  function liveRemembered() {
    try { return JSON.parse(sessionStorage.getItem(liveKey) || "null"); } catch (e) { return null; }
  }
  function liveRemember(value) {
    try {
      if (value) { sessionStorage.setItem(liveKey, JSON.stringify(value)); } else { sessionStorage.removeItem(liveKey); }
    } catch (e) { /* storage may be off: the recording still goes up, it only cannot be offered after a reload */ }
  }
  async function stateOf(url) {  // {offset, length (null while deferred)}, or {gone: true}
    var res = await fetch(url, { method: "HEAD", credentials: "same-origin", headers: headers({}) });
    if (res.status === 404 || res.status === 410) { return { gone: true }; }
    if (res.status !== 200) { throw new TypeError("no answer"); }
    var length = res.headers.get("Upload-Length");
    return { offset: Number(res.headers.get("Upload-Offset")), length: length === null ? null : Number(length) };
  }
  async function refusal(res, fallback) {
    var data = await res.json().catch(function () { return {}; });
    var err = new Error(data.message || fallback);
    err.refused = true;
    return err;
  }

  function Live(url, offset, seconds) {
    this.url = url;
    this.offset = offset;  // what the server holds
    this.seconds = seconds;  // the recording time the server holds all of
    this.queue = [];  // [{blob, seconds}], not yet acknowledged
    this.pumping = null;
    this.ended = false;
    this.onstatus = function () {};
  }
  Live.prototype.push = function (blob, seconds) {
    if (this.ended) { return; }
    this.queue.push({ blob: blob, seconds: seconds });
    this.pump().catch(function () {});
  };
  Live.prototype.pump = function () {
    var self = this;
    if (!self.pumping) {
      self.pumping = self.drain().finally(function () { self.pumping = null; });
    }
    return self.pumping.then(function () {  // a piece pushed as the last drain ended
      return self.queue.length && !self.ended ? self.pump() : undefined;
    });
  };
  Live.prototype.skipTo = function (held) {  // the server holds `held` bytes: drop what it has
    var extra = held - this.offset;
    while (extra > 0 && this.queue.length) {
      var first = this.queue[0];
      if (first.blob.size <= extra) { extra -= first.blob.size; this.seconds = first.seconds; this.queue.shift(); }
      else { first.blob = first.blob.slice(extra); extra = 0; }
    }
    this.offset = held;
  };
  Live.prototype.saved = function () { liveRemember({ url: this.url, seconds: this.seconds }); };
  Live.prototype.drain = async function () {
    var failures = 0;
    while (this.queue.length && !this.ended) {
      var piece = this.queue[0];
      try {
        var res = await fetch(this.url, { method: "PATCH", credentials: "same-origin", body: piece.blob,
          headers: headers({ "Upload-Offset": String(this.offset), "Content-Type": "application/offset+octet-stream" }) });
        if (res.status === 204) {
          this.offset = Number(res.headers.get("Upload-Offset"));
          this.queue.shift();
          this.seconds = piece.seconds;
          this.saved();
          if (failures) { this.onstatus(null); }
          failures = 0;
          continue;
        }
        if (res.status !== 409 && res.status < 500) { throw await refusal(res, t("The recording was refused.")); }
      } catch (err) {
        if (!(err instanceof TypeError)) { this.onstatus(err.message); throw err; }  // TypeError: the connection dropped
      }
      failures += 1;
      this.onstatus(t("The connection was lost. What you record is kept on this page and sent when the connection is back."));
      await sleep(Math.min(500 * Math.pow(2, failures), 15000));
      var now = await stateOf(this.url).catch(function () { return null; });
      if (now && now.gone) {
        this.ended = true;
        liveRemember(null);
        this.onstatus(t("This recording is no longer on shuttle (it expired or was deleted). Please start again."));
        throw new Error(t("This recording is no longer on shuttle (it expired or was deleted). Please start again."));
      }
      if (now) { this.skipTo(now.offset); }
    }
  };
  // Everything recorded is on the server: tell its length, which completes it (it becomes the draft's).
  Live.prototype.finish = async function () {
    await this.pump();
    if (this.offset === 0) { throw new Error(t("Nothing was recorded. Please start again.")); }
    for (var failures = 0; failures < 20; failures++) {
      try {
        var res = await fetch(this.url, { method: "PATCH", credentials: "same-origin", body: new Blob([]), headers: headers({
          "Upload-Offset": String(this.offset), "Upload-Length": String(this.offset),
          "Content-Type": "application/offset+octet-stream" }) });
        if (res.status === 204) { break; }
        if (res.status !== 409 && res.status < 500) { throw await refusal(res, t("The recording was refused.")); }
        var now = await stateOf(this.url);  // 409: an earlier answer was lost; it may be complete already
        if (!now.gone && now.length === now.offset) { break; }
      } catch (err) {
        if (!(err instanceof TypeError)) { throw err; }
      }
      this.onstatus(t("The connection was lost; trying again…"));
      await sleep(Math.min(500 * Math.pow(2, failures), 15000));
    }
    this.ended = true;
    liveRemember(null);
  };
  // Not wanted: the server destroys what it holds, and nothing of it is kept here.
  Live.prototype.discard = function () {
    this.ended = true;
    this.queue = [];
    liveRemember(null);
    return fetch(this.url, { method: "DELETE", credentials: "same-origin", keepalive: true, headers: headers({}) })
      .catch(function () {});
  };

  window.shuttleLive = {
    // A new recording's upload, its length told when it stops.
    start: async function () {
      var res = await fetch("/api/v1/uploads", { method: "POST", credentials: "same-origin",
        headers: headers({ "Upload-Defer-Length": "1", "Upload-Metadata": "message_id " + btoa(messageId) }) });
      if (res.status !== 201) { throw await refusal(res, t("The recording could not start.")); }
      var live = new Live(res.headers.get("Location"), 0, 0);
      live.saved();
      return live;
    },
    // A recording a reload interrupted: what the server holds of it, or null (nothing is left to offer).
    saved: async function () {
      var mark = liveRemembered();
      if (!mark || !mark.url) { return null; }
      var now = await stateOf(mark.url).catch(function () { return null; });
      if (!now) { return null; }  // no answer now: the mark stays, to be offered on the next visit
      var live = new Live(mark.url, now.gone ? 0 : now.offset, Number(mark.seconds) || 0);
      if (now.gone || now.length !== null) { liveRemember(null); return null; }  // expired, or already used
      if (now.offset === 0) { live.discard(); return null; }
      return live;
    },
    uploaded: function () {
      if (busy) { return Promise.resolve(); }
      busy = true;
      return uploaded();
    }
  };
  window.shuttleUpload = upload;
  form.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!input.files || !input.files[0]) { say(t("Choose a file first.")); input.focus(); return; }
    upload(input.files[0]).catch(function () {});
  });
})();
