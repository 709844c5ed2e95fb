// provisor's pages work without this script. With it, a page that shows running scan
// jobs follows them: each row's state and progress are read from the API every two
// seconds (for at most 30 minutes), and the page loads again when a job has ended, so
// that its findings show. On the ICS, files are dropped on the form, and each change
// (an answer, a ticked file, the detail once left, a file added) is saved as it is made:
// the form is sent as it is, asking for JSON, and the page takes the new revision,
// progress, verdict and evidence from the answer; "Save and next" waits for a save in
// flight. Served by the server itself; nothing inline, nothing from another site.
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
          return job.state === "done" || job.state === "dead";
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

(function () {
  "use strict";
  var form = document.querySelector("form[data-inline]");
  if (!form || !window.fetch || !window.FormData) {
    return;
  }
  var status = form.querySelector("[data-field=saved]");
  var upload = form.querySelector("input[type=file]");
  var zone = form.querySelector("[data-drop]");
  var basedOn = form.querySelector("input[name=based_on]");
  var queue = Promise.resolve();
  var pending = 0;

  function say(text, problem) {
    status.textContent = text;
    status.className = "small saved" + (problem ? " problem" : " muted");
  }

  function checkedSupport() {
    var chosen = form.querySelector("input[name=support]:checked");
    return chosen ? chosen.value : "";
  }

  function evidenceChoice(file) {
    var label = document.createElement("label");
    label.className = "choice";
    var box = document.createElement("input");
    box.type = "checkbox";
    box.name = "evidence";
    box.value = file.path;
    box.checked = file.cited;
    box.addEventListener("change", save);
    var name = document.createElement("span");
    name.className = "mono";
    name.textContent = file.path;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" "));
    label.appendChild(name);
    return label;
  }

  function apply(saved) {
    basedOn.value = String(saved.revision);
    var bar = document.querySelector("[data-field=progress]");
    if (bar) {
      bar.setAttribute("aria-valuenow", String(saved.stated));
      bar.setAttribute("aria-valuemax", String(saved.applicable));
      bar.firstElementChild.className = "bar-" + saved.percent;
    }
    var summary = document.querySelector("[data-field=summary]");
    if (summary) {
      summary.textContent = saved.summary;
    }
    var verdict = document.querySelector("[data-field=verdict]");
    if (verdict) {
      verdict.textContent = "";
      var badge = document.createElement("span");
      badge.className = "badge v-" + saved.verdict;
      badge.textContent = saved.verdict_label;
      verdict.appendChild(badge);
      saved.reasons.forEach(function (reason) {
        var why = document.createElement("span");
        why.className = "muted small";
        why.textContent = reason;
        verdict.appendChild(document.createTextNode(" "));
        verdict.appendChild(why);
      });
    }
    if (!saved.carried) {
      var carried = document.querySelector(".question .notice.carried");
      if (carried) {
        carried.parentNode.removeChild(carried);
      }
    }
    var step = document.querySelector("nav.steps a[aria-current=step]");
    if (step) {
      step.className = saved.step;
      var word = step.querySelector(".sr-only");
      if (word) {
        word.textContent = " (" + saved.step + ")";
      }
    }
    var list = form.querySelector("[data-field=evidence]");
    if (list) {
      list.textContent = "";
      saved.evidence.forEach(function (file) {
        list.appendChild(evidenceChoice(file));
      });
    }
    upload.value = "";
  }

  function send() {
    var data = new FormData(form);
    data.set("go", "stay");
    var files = upload.files ? upload.files.length : 0;
    say(files ? "Uploading " + files + " file(s)…" : "Saving…");
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        var body = type.indexOf("application/json") === 0 ? response.json() : Promise.resolve(null);
        return body.then(function (json) {
          return { ok: response.ok, status: response.status, json: json };
        });
      })
      .then(function (answer) {
        if (answer.ok && answer.json) {
          apply(answer.json);
          say("Saved at " + new Date().toLocaleTimeString() + " (revision " + answer.json.revision + ")");
        } else {
          var why = answer.json && answer.json.error
            ? answer.json.error
            : "the server answered " + answer.status + "; use “Save and next” to see why";
          say("Not saved: " + why, true);
        }
      })
      .catch(function () {
        say("Not saved: the server could not be reached. What you entered is still here.", true);
      });
  }

  function save() {
    pending += 1;
    queue = queue.then(send).then(function () {
      pending -= 1;
    });
    return queue;
  }

  Array.prototype.forEach.call(form.querySelectorAll("input[name=support], input[name=evidence]"), function (input) {
    input.addEventListener("change", save);
  });
  form.querySelector("textarea[name=detail]").addEventListener("change", function () {
    // A detail without an answer is no statement yet: it is saved with the answer.
    if (checkedSupport() !== "") {
      save();
    }
  });
  upload.addEventListener("change", function () {
    if (upload.files && upload.files.length > 0) {
      save();
    }
  });

  if (zone && window.DataTransfer) {
    var depth = 0;
    zone.addEventListener("dragenter", function (event) {
      event.preventDefault();
      depth += 1;
      zone.classList.add("over");
    });
    zone.addEventListener("dragover", function (event) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    });
    zone.addEventListener("dragleave", function () {
      depth = Math.max(0, depth - 1);
      if (depth === 0) {
        zone.classList.remove("over");
      }
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      depth = 0;
      zone.classList.remove("over");
      var dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || dropped.length === 0) {
        return;
      }
      var files = new DataTransfer();
      Array.prototype.forEach.call(dropped, function (file) {
        files.items.add(file);
      });
      upload.files = files.files;
      save();
    });
  }

  // "Save and next" sends the form as a page; a save in flight finishes first, so the
  // page's revision is the one it made.
  form.addEventListener("submit", function (event) {
    if (pending === 0) {
      return;
    }
    event.preventDefault();
    var go = event.submitter && event.submitter.name === "go" ? event.submitter.value : "next";
    queue.then(function () {
      var field = document.createElement("input");
      field.type = "hidden";
      field.name = "go";
      field.value = go;
      form.appendChild(field);
      form.submit();
    });
  });
})();
