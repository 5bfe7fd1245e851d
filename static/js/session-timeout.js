// Warns a signed-in person two minutes before their idle session ends, and lets them stay (WCAG 2.2.1).
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.getAttribute("data-session-idle-seconds"), 10);
  var dialog = document.getElementById("session-warning");
  if (!idle || !dialog) { return; }
  var warnAfter = Math.max(idle - 120, 5) * 1000;
  var endAfter = idle * 1000;
  var warnTimer, endTimer;

  function arm() {
    clearTimeout(warnTimer);
    clearTimeout(endTimer);
    warnTimer = setTimeout(function () {
      dialog.hidden = false;
      dialog.querySelector("button").focus();
    }, warnAfter);
    endTimer = setTimeout(function () {
      window.location.assign(body.getAttribute("data-session-ended-url"));
    }, endAfter);
  }

  dialog.querySelector("button").addEventListener("click", function () {
    fetch(body.getAttribute("data-session-keep-alive-url"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (response.ok) { dialog.hidden = true; arm(); }
        else { window.location.assign(body.getAttribute("data-session-ended-url")); }
      });
  });
  arm();
})();
