// provisor's pages work without this script; with it, a page that shows running scan
// jobs follows them: each row's state and progress are read from the API every two
// seconds (for at most 30 minutes), and the page loads again when a job has ended, so
// that its findings show. Served by the server itself; nothing inline, nothing from
// another site.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr[data-job]"));
  var live = rows.filter(function (row) {
    var state = row.getAttribute("data-state");
    return state === "queued" || state === "running";
  });
  if (live.length === 0) {
    return;
  }
  var started = Date.now();
  var limit = 30 * 60 * 1000;
  function poll() {
    if (Date.now() - started > limit) {
      return;
    }
    var pending = live.map(function (row) {
      return fetch("/api/v1/jobs/" + encodeURIComponent(row.getAttribute("data-job")), {
        credentials: "same-origin",
        headers: { Accept: "application/json" }
      })
        .then(function (response) {
          return response.ok ? response.json() : null;
        })
        .then(function (job) {
          if (!job) {
            return false;
          }
          var state = row.querySelector("[data-field=state]");
          var progress = row.querySelector("[data-field=progress]");
          state.textContent = job.state;
          state.className = "badge job-" + job.state;
          progress.textContent = job.error || job.progress || "";
          row.setAttribute("data-state", job.state);
          return job.state === "done" || job.state === "failed";
        })
        .catch(function () {
          return false;
        });
    });
    Promise.all(pending).then(function (ended) {
      if (ended.some(Boolean)) {
        window.location.reload();
      } else {
        window.setTimeout(poll, 2000);
      }
    });
  }
  window.setTimeout(poll, 1000);
})();
