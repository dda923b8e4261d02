// Tacit web app: live updates of timelines. An enhancement only: without it, the
// pages work the same and show new posts on the next load.
//
// A timeline page has <p id="live" data-source="/live/…" hidden>. The server passes
// that stream to the API's Server-Sent Events with the session's token, which this
// script never sees. When a post arrives, the notice appears (role="status", so
// screen readers announce it); following its link reloads the page.
(function () {
  "use strict";
  var notice = document.getElementById("live");
  if (!notice || !window.EventSource) {
    return;
  }
  var source = new EventSource(notice.getAttribute("data-source"));
  source.addEventListener("update", function () {
    notice.hidden = false;
  });
  // A session that ended (signed out elsewhere, revoked) answers 401: stop asking.
  source.addEventListener("error", function () {
    if (source.readyState === EventSource.CLOSED) {
      source.close();
    }
  });
  notice.querySelector("a").addEventListener("click", function (event) {
    event.preventDefault();
    window.location.reload();
  });
})();
