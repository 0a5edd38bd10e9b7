// Keeps a request's status page current without reloading it (the page reloads itself
// through <noscript><meta refresh> when JavaScript is off). Stops once the request is final.
(() => {
  "use strict";
  const POLL_MS = 2000;

  async function poll() {
    const current = document.getElementById("status");
    if (!current || !current.dataset.refresh) return;
    try {
      const response = await fetch(window.location.href, { headers: { Accept: "text/html" } });
      if (response.ok) {
        const page = new DOMParser().parseFromString(await response.text(), "text/html");
        const fresh = page.getElementById("status");
        if (fresh && fresh.innerHTML !== current.innerHTML) {
          current.replaceWith(fresh);
          document.title = page.title;
        } else if (fresh) {
          current.dataset.refresh = fresh.dataset.refresh;
        }
      }
    } catch (_) {
      // A dropped connection: try again at the next turn.
    }
    const next = document.getElementById("status");
    if (next && next.dataset.refresh) {
      // Quick while the flow runs; slower while the request waits for a person.
      setTimeout(poll, Number(next.dataset.refresh) <= 3 ? POLL_MS : 5 * POLL_MS);
    }
  }

  setTimeout(poll, POLL_MS);
})();
