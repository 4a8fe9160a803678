/* The cue editor (issue 12): "Start the next line now" writes the player's current time into the
   next line without one; the times the current captions already have are filled in; and the
   captions are shown on the player while timing. Without this script the form works as it is.
   data-player names the player, or an element holding it (the author's editor wraps _player.html). */
(function () {
  "use strict";

  function clock(seconds) {
    var tenths = Math.round(seconds * 10);
    var s = Math.floor(tenths / 10), t = tenths % 10;
    var m = Math.floor(s / 60), h = Math.floor(m / 60);
    s = s % 60; m = m % 60;
    var mm = (m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h ? h + ":" + mm : mm) + ":" + ss + "." + t;
  }

  function starts(vtt) {
    /* the start of each cue, in seconds, in order */
    var out = [];
    vtt.split(/\r?\n/).forEach(function (line) {
      var m = /^(?:(\d+):)?(\d\d):(\d\d)\.(\d\d\d)\s+-->/.exec(line.trim());
      if (m) {
        out.push((parseInt(m[1] || "0", 10) * 3600) + parseInt(m[2], 10) * 60 + parseInt(m[3], 10) +
                 parseInt(m[4], 10) / 1000);
      }
    });
    return out;
  }

  function setUp(editor) {
    var player = document.getElementById(editor.getAttribute("data-player"));
    if (player && !/^(VIDEO|AUDIO)$/.test(player.tagName)) { player = player.querySelector("video, audio"); }
    var fields = Array.prototype.slice.call(editor.querySelectorAll("[data-cue-start]"));
    var now = editor.querySelector("[data-captions-now]");
    var button = editor.querySelector("[data-captions-next]");
    var status = editor.querySelector("[data-captions-status]");
    if (!player || !fields.length || !now || !button) { return; }
    now.hidden = false;
    button.addEventListener("click", function () {
      var next = fields.filter(function (f) { return !f.value.trim(); })[0];
      var t = window.shuttleWords || function (english) { return english; };  // the page's language
      if (!next) { status.textContent = t("Every line has a time."); return; }
      next.value = clock(player.currentTime || 0);
      var n = fields.indexOf(next) + 1;
      status.textContent = t("Line {n} starts at {time}.", { n: n, time: next.value });
      if (player.paused) { player.play().catch(function () {}); }
    });
    var src = editor.getAttribute("data-captions-src");
    if (!src) { return; }  // the lines come with their times already (the author's editor)
    fetch(src, { credentials: "same-origin" }).then(function (answer) {
      if (!answer.ok) { return null; }
      return answer.text();
    }).then(function (vtt) {
      if (!vtt) { return; }
      var times = starts(vtt);
      if (times.length === fields.length) {
        fields.forEach(function (f, i) { if (!f.value.trim()) { f.value = clock(times[i]); } });
      }
      if (!player.querySelector("track")) {
        var track = document.createElement("track");
        track.kind = "captions"; track.srclang = "en"; track.label = "English"; track.default = true;
        track.src = src;
        player.appendChild(track);
      }
    }).catch(function () {});
  }

  document.querySelectorAll("[data-captions-editor]").forEach(setUp);
}());
