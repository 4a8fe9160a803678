// Recording audio or video in the browser (getUserMedia + MediaRecorder), with a preview and
// "record again". The camera or microphone is only turned on when the person asks, and turned
// off as soon as the recording stops. What is recorded goes to shuttle while it is being made
// (a piece a second, upload.js's shuttleLive), so a reload or a dropped connection does not lose
// it; it becomes the message's recording only with "Use this recording" (or, after a reload,
// "Use what was saved"). The pieces are held in this page's memory only (for the preview);
// nothing of the recording is written to the browser's storage.
(function () {
  "use strict";
  var box = document.getElementById("recorder");
  if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) { return; }
  var kind = box.getAttribute("data-kind");
  var maxSeconds = Number(box.getAttribute("data-max-seconds")) || 600;
  var live = document.getElementById("rec-live");
  var preview = document.getElementById("rec-preview");
  var timerText = document.getElementById("rec-timer");
  var status = document.getElementById("rec-status");
  var buttons = {
    on: document.getElementById("rec-on"), start: document.getElementById("rec-start"),
    stop: document.getElementById("rec-stop"), use: document.getElementById("rec-use"),
    retake: document.getElementById("rec-retake"), sendSaved: document.getElementById("rec-send-saved"),
    discardSaved: document.getElementById("rec-discard-saved")
  };
  var TYPES = kind === "video"
    ? ["video/webm;codecs=vp8,opus", "video/webm", "video/mp4"]
    : ["audio/webm;codecs=opus", "audio/webm", "audio/ogg;codecs=opus", "audio/mp4"];
  var stream = null, recorder = null, chunks = [], recording = null, previewUrl = null;
  var startedAt = 0, ticker = null, live = null;

  var t = window.shuttleWords;  // the page's language (shuttle.js)
  function say(text) { status.textContent = text; }
  function show(names) {
    Object.keys(buttons).forEach(function (name) { buttons[name].hidden = names.indexOf(name) < 0; });
  }
  function focus(name) { if (!buttons[name].hidden) { buttons[name].focus(); } }
  function minutes(seconds) {
    return Math.floor(seconds / 60) + ":" + String(Math.floor(seconds % 60)).padStart(2, "0");
  }
  function mimeType() {
    for (var i = 0; i < TYPES.length; i++) {
      if (MediaRecorder.isTypeSupported(TYPES[i])) { return TYPES[i]; }
    }
    return "";
  }
  function stopStream() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    if (live) { live.srcObject = null; live.hidden = true; }
  }
  function clearPreview() {
    if (previewUrl) { URL.revokeObjectURL(previewUrl); }
    previewUrl = null;
    recording = null;
    preview.removeAttribute("src");
    preview.hidden = true;
  }

  function turnOn() {
    say(kind === "video" ? t("Asking to use your camera and microphone…") : t("Asking to use your microphone…"));
    var wanted = kind === "video"
      ? { audio: true, video: { width: { ideal: 1280 }, height: { ideal: 720 }, facingMode: "user" } }
      : { audio: true };
    return navigator.mediaDevices.getUserMedia(wanted).then(function (media) {
      stream = media;
      if (live) {
        live.srcObject = media;
        live.hidden = false;
        live.play().catch(function () {});
      }
      show(["start"]);
      say(kind === "video" ? t("Your camera is on. Press Start recording when you are ready.")
        : t("Your microphone is on. Press Start recording when you are ready."));
      focus("start");
    }).catch(function () {
      show(["on"]);
      say(kind === "video"
        ? t("The browser was not allowed to use your camera. You can allow it in the browser's settings, or choose a file instead.")
        : t("The browser was not allowed to use your microphone. You can allow it in the browser's settings, or choose a file instead."));
    });
  }

  function trouble(text) {
    if (recorder && recorder.state !== "inactive") {
      say(text ? text : t("Recording. Press Stop recording when you have finished."));
    } else if (text) { say(text); }
  }

  function start() {
    clearPreview();
    chunks = [];
    var type = mimeType();
    try {
      recorder = type ? new MediaRecorder(stream, { mimeType: type }) : new MediaRecorder(stream);
    } catch (e) {
      say(t("This browser cannot record. Please choose a file instead."));
      return;
    }
    show([]);
    say(t("Getting ready…"));
    window.shuttleLive.start().then(function (upload) {
      live = upload;
      live.onstatus = trouble;
      record();
    }, function (err) {
      show(["start"]);
      say(err.message || t("The recording could not start. Please try again."));
    });
  }

  function record() {
    recorder.addEventListener("dataavailable", function (event) {
      if (event.data && event.data.size) {
        chunks.push(event.data);
        live.push(event.data, (Date.now() - startedAt) / 1000);
      }
    });
    recorder.addEventListener("stop", finished);
    recorder.start(1000);
    startedAt = Date.now();
    timerText.hidden = false;
    timerText.textContent = t("Recording {time}", { time: "0:00" });
    ticker = setInterval(function () {
      var seconds = (Date.now() - startedAt) / 1000;
      timerText.textContent = t("Recording {time}", { time: minutes(seconds) });
      if (seconds >= maxSeconds) { stop(); }
    }, 250);
    show(["stop"]);
    say(t("Recording. Press Stop recording when you have finished."));
    focus("stop");
  }

  function stop() {
    if (ticker) { clearInterval(ticker); ticker = null; }
    if (recorder && recorder.state !== "inactive") { recorder.stop(); }
  }

  function finished() {
    var seconds = (Date.now() - startedAt) / 1000;
    recording = new Blob(chunks, { type: recorder.mimeType || mimeType() || (kind + "/webm") });
    stopStream();
    previewUrl = URL.createObjectURL(recording);
    preview.src = previewUrl;
    preview.hidden = false;
    timerText.textContent = t("Your recording: {time}", { time: minutes(seconds) });
    show(["use", "retake"]);
    say(t("Recorded {time}. Play it back to check it, then use it or record again.", { time: minutes(seconds) }));
    focus("use");
  }

  function retake() {
    if (live) { live.discard(); live = null; }
    clearPreview();
    timerText.hidden = true;
    show([]);
    turnOn();
  }

  function use() {
    if (!recording || !live) { return; }
    show([]);
    say(t("Sending the last of your recording to shuttle…"));
    live.finish().then(function () {
      live = null;
      return window.shuttleLive.uploaded();
    }).catch(function (err) {
      say(err.message || t("The recording could not be sent."));
      show(["use", "retake"]);
    });
  }

  // After a reload: what the server holds of the interrupted recording is offered as it is (a new
  // recording cannot be joined onto it), to send or to discard.
  function offerSaved(saved) {
    live = saved;
    live.onstatus = say;
    timerText.hidden = false;
    timerText.textContent = t("Your recording up to {time} is saved.", { time: minutes(saved.seconds) });
    show(["sendSaved", "discardSaved"]);
    say(t("Your recording up to {time} is saved on shuttle. You can use what was saved as your recording, " +
          "or delete it and start again.", { time: minutes(saved.seconds) }));
  }
  function sendSaved() {
    if (!live) { return; }
    show([]);
    say(t("Keeping what was saved as your recording…"));
    live.finish().then(function () {
      live = null;
      return window.shuttleLive.uploaded();
    }).catch(function (err) {
      say(err.message || t("The recording could not be sent."));
      show(["sendSaved", "discardSaved"]);
    });
  }
  function discardSaved() {
    if (live) { live.discard(); live = null; }
    timerText.hidden = true;
    show(["on"]);
    say(t("What was saved is deleted. You can record again."));
    focus("on");
  }

  buttons.on.addEventListener("click", turnOn);
  buttons.start.addEventListener("click", start);
  buttons.stop.addEventListener("click", stop);
  buttons.use.addEventListener("click", use);
  buttons.retake.addEventListener("click", retake);
  buttons.sendSaved.addEventListener("click", sendSaved);
  buttons.discardSaved.addEventListener("click", discardSaved);
  window.addEventListener("pagehide", stopStream);
  if (!window.shuttleLive) { return; }
  box.hidden = false;
  window.shuttleLive.saved().then(function (saved) {
    if (saved && !stream) { offerSaved(saved); }
  });
})();
