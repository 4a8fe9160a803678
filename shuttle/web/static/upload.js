// Resumable upload of a recording or photo (tus 1.0.0) from the participant's page.
// The file goes up in 5 MiB pieces; after a dropped connection it asks the server how far
// it got and carries on from there. Nothing but the bytes and the message id are sent:
// never the file's name.
(function () {
  "use strict";
  var CHUNK = 5 * 1024 * 1024;
  var form = document.getElementById("media-upload");
  if (!form) { return; }
  var input = document.getElementById("media-file");
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  var messageId = form.getAttribute("data-message-id");
  var csrf = form.getAttribute("data-csrf");
  var storeKey = "shuttle-upload-" + messageId;

  function headers(extra) {
    var h = { "Tus-Resumable": "1.0.0", "X-CSRF-Token": csrf };
    for (var k in extra) { h[k] = extra[k]; }
    return h;
  }
  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  function say(text) { status.textContent = text; }

  async function create(size) {
    var res = await fetch("/api/v1/uploads", { method: "POST", credentials: "same-origin",
      headers: headers({ "Upload-Length": String(size), "Upload-Metadata": "message_id " + btoa(messageId) }) });
    if (res.status !== 201) { throw new Error((await res.json()).message || "The upload could not start."); }
    return res.headers.get("Location");
  }
  async function offsetOf(url) {
    var res = await fetch(url, { method: "HEAD", credentials: "same-origin", headers: headers({}) });
    if (res.status !== 200) { return null; }
    return Number(res.headers.get("Upload-Offset"));
  }
  async function send(file) {
    var saved = JSON.parse(localStorage.getItem(storeKey) || "null");
    var url = saved && saved.size === file.size ? saved.url : null;
    var offset = url ? await offsetOf(url) : null;
    if (offset === null) { url = await create(file.size); offset = 0; }
    localStorage.setItem(storeKey, JSON.stringify({ url: url, size: file.size }));
    var failures = 0;
    while (offset < file.size) {
      bar.value = offset / file.size;
      say("Uploading: " + Math.floor(100 * offset / file.size) + "%");
      try {
        var res = await fetch(url, { method: "PATCH", credentials: "same-origin", body: file.slice(offset, offset + CHUNK),
          headers: headers({ "Upload-Offset": String(offset), "Content-Type": "application/offset+octet-stream" }) });
        if (res.status === 204) { offset = Number(res.headers.get("Upload-Offset")); failures = 0; continue; }
        if (res.status !== 409 && res.status < 500) { throw new Error((await res.json()).message); }
      } catch (err) {
        if (err instanceof Error && err.message && !(err instanceof TypeError)) { throw err; }
      }
      failures += 1;
      if (failures > 10) { throw new Error("The connection keeps dropping. Try again later; what arrived is kept."); }
      say("Connection lost; trying again…");
      await sleep(Math.min(1000 * Math.pow(2, failures), 30000));
      var now = await offsetOf(url).catch(function () { return null; });
      if (now !== null) { offset = now; }
    }
    localStorage.removeItem(storeKey);
    bar.value = 1;
    say("Uploaded. Reloading…");
    window.location.reload();
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!input.files || !input.files[0]) { say("Choose a file first."); return; }
    send(input.files[0]).catch(function (err) { say(err.message || "The upload failed."); });
  });
})();
