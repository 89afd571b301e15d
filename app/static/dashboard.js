// The dashboard's only script (served by the app; CSP script-src 'self'). It listens to the live stream and
// swaps in the server-rendered figures when new data lands, so every number stays the server's (the API's).
// EventSource retries by itself after a dropped connection; when the server refuses (503, 401) it gives up, so
// we reconnect with backoff ourselves.
"use strict";
(function () {
  const main = document.getElementById("content");
  const panels = document.getElementById("panels");
  const status = document.getElementById("live-status");
  const alerts = document.getElementById("alerts");
  if (!main || !panels || !status || !alerts) return;
  const query = main.dataset.query || "";
  const region = new URLSearchParams(query).get("region");
  let source = null;
  let backoff = 1000;
  let lastMetrics = null;
  let refreshing = null;

  function say(text) {
    status.textContent = text;
  }

  async function refresh() {
    const response = await fetch("/dashboard/panels?" + query, {
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    if (response.status === 401) {
      window.location.assign("/dashboard/sign-in");
      return;
    }
    if (!response.ok) {
      say("Live: figures unavailable (" + response.status + "), retrying on the next update");
      return;
    }
    panels.innerHTML = await response.text();
    main.dataset.updated = String(Date.now());
    say("Live: updated " + new Date().toLocaleTimeString());
  }

  function onMetrics(event) {
    if (event.data === lastMetrics) return;
    lastMetrics = event.data;
    // One refresh at a time; a burst of updates ends with one more refresh for the latest.
    refreshing = (refreshing || Promise.resolve()).then(refresh).catch(function () {
      say("Live: update failed, waiting for the next one");
    });
  }

  function onRequests(event) {
    const rows = JSON.parse(event.data);
    for (const row of rows) {
      if (region && row.region !== region) continue;
      const tr = panels.querySelector('#table-requests tr[data-region="' + row.region + '"]');
      if (!tr) continue;
      for (const key of ["ratePerSecond", "recentRatePerSecond", "p95Ms", "serverErrors"]) {
        const td = tr.querySelector('td[data-key="' + key + '"]');
        if (td) td.textContent = row[key] === null ? "\u2014" : String(row[key]);
      }
    }
  }

  function onAlert(event) {
    const firing = JSON.parse(event.data);
    const none = alerts.querySelector("li.none");
    if (none) none.remove();
    const li = document.createElement("li");
    li.className = "alert new";
    const scope = firing.region || "all regions";
    li.textContent = "Alert: " + firing.metric + " (" + scope + ") is " + firing.op + " " + firing.threshold +
      ": " + firing.value + " in " + firing.month;
    alerts.prepend(li);
  }

  function connect() {
    say("Connecting…");
    source = new EventSource("/api/analytics/stream");
    source.addEventListener("open", function () {
      backoff = 1000;
      say("Live");
    });
    source.addEventListener("metrics", onMetrics);
    source.addEventListener("requests", onRequests);
    source.addEventListener("alert", onAlert);
    source.addEventListener("error", function () {
      if (source.readyState === EventSource.CLOSED) {
        say("Disconnected, reconnecting in " + Math.round(backoff / 1000) + " s");
        window.setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 30000);
      } else {
        say("Reconnecting…");
      }
    });
  }

  connect();
})();
