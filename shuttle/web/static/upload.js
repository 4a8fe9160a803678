// Resumable upload of a recording or photo (tus 1.0.0) from the participant's page.
// The file (or a recording made in the browser) goes up in 5 MiB pieces; after a dropped
// connection it asks the server how far it got and carries on from there. Nothing but the
// bytes and the message id are sent: never the file's name. Where an upload got to is kept
// in sessionStorage (gone when the tab closes: no trace on a shared computer).
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
      throw new Error(data.message || "The upload could not start.");
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
      say("Uploading: " + Math.floor(100 * offset / blob.size) + "%");
      try {
        var res = await fetch(url, { method: "PATCH", credentials: "same-origin", body: blob.slice(offset, offset + CHUNK),
          headers: headers({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }) });
        if (res.status === 204) { offset = Number(res.headers.get("Upload-Offset")); failures = 0; continue; }
        if (res.status !== 409 && res.status < 500) {
          var data = await res.json().catch(function () { return {}; });
          throw new Error(data.message || "The upload was refused.");
        }
      } catch (err) {
        if (!(err instanceof TypeError)) { throw err; }  // TypeError: the connection dropped
      }
      failures += 1;
      if (failures > 10) { throw new Error("The connection keeps dropping. Try again later; what arrived is kept."); }
      say("Connection lost; trying again…");
      await sleep(Math.min(1000 * Math.pow(2, failures), 30000));
      var now = await offsetOf(url).catch(function () { return null; });
      if (now !== null) { offset = now; }
    }
    remember(null);
    progress(1, 1);
  }

  // Upload, then save the words typed so far, then show the page again with the upload in place.
  function upload(blob) {
    if (busy) { return Promise.resolve(); }
    busy = true;
    return send(blob).then(function () {
      say("Uploaded. Just a moment…");
      var saveWords = window.shuttleSaveDraft ? window.shuttleSaveDraft() : Promise.resolve();
      return Promise.resolve(saveWords).then(function () {
        // The confirmation is shown once (pages/participants.py DONE_COOKIE), not again on reload.
        document.cookie = "shuttle_done=uploaded; path=/me; max-age=300; samesite=strict";
        window.location.replace("/me/messages/" + messageId + "?done=uploaded");
      }, function (unsaved) {  // the upload is kept; the words must not be lost by reloading
        busy = false;
        say(unsaved.message || "Your words were not saved. Copy them somewhere safe, then reload the page.");
      });
    }).catch(function (err) {
      busy = false;
      say(err.message || "The upload failed.");
      throw err;
    });
  }

  window.shuttleUpload = upload;
  form.hidden = false;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!input.files || !input.files[0]) { say("Choose a file first."); input.focus(); return; }
    upload(input.files[0]).catch(function () {});
  });
})();
