// The job page's progress bar: polls the page's JSON twin and redraws, without a reload.
// Once the job has finished, the page is loaded once more to show what was made and what failed.
(function () {
  "use strict";
  var box = document.getElementById("job");
  if (!box || box.dataset.finished === "true") return;
  var url = box.dataset.statusUrl;
  var bar = box.querySelector("[data-job=bar]");
  var meter = box.querySelector("[role=progressbar]");
  var state = box.querySelector("[data-job=state]");
  var counts = box.querySelector("[data-job=counts]");
  var delay = 1000;

  function draw(job) {
    bar.style.width = job.percent + "%";
    meter.setAttribute("aria-valuenow", String(job.done + job.failed));
    state.textContent = job.state_label;
    counts.textContent = job.counts_text;
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (job) {
        draw(job);
        if (job.finished) {
          window.location.reload();
          return;
        }
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000); // the server is busy or away: ask less often
        window.setTimeout(poll, delay);
      });
  }

  window.setTimeout(poll, delay);
})();
