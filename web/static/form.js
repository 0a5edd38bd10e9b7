// Progressive enhancement of the request form; without it the form works the same.
// - "Add a row" adds the row here instead of a round trip to the server.
// - Each SpotID is checked as it is typed (format, duplicates, HotSpot), via /check.
(() => {
  "use strict";
  const form = document.querySelector("form[data-check-url]");
  if (!form) return;
  const rowsBox = document.getElementById("rows");
  const checkUrl = form.dataset.checkUrl;
  const timers = new WeakMap();
  let nextId = rowsBox.querySelectorAll("[data-row]").length;

  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();

  const rows = () => Array.from(rowsBox.querySelectorAll("[data-row]"));

  function show(row, result) {
    const message = row.querySelector(".message");
    const input = row.querySelector("input[name=spot_id]");
    message.textContent = "";
    row.classList.remove("has-error", "has-note");
    input.removeAttribute("aria-invalid");
    const text = result && (result.error || result.note);
    if (!text) return;
    const span = document.createElement("span");
    span.className = result.error ? "error" : "ok";
    span.textContent = text;
    message.appendChild(span);
    row.classList.add(result.error ? "has-error" : "has-note");
    if (result.error) input.setAttribute("aria-invalid", "true");
  }

  async function check(row) {
    const all = rows();
    const index = all.indexOf(row);
    if (!row.querySelector("input[name=spot_id]").value.trim()) return show(row, null);
    const params = new URLSearchParams({ row: String(index) });
    for (const r of all) {
      params.append("location", r.querySelector("select[name=location]").value);
      params.append("spot_id", r.querySelector("input[name=spot_id]").value);
    }
    try {
      const response = await fetch(`${checkUrl}?${params}`, { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const result = await response.json();
      if (rows().indexOf(row) === result.row) show(row, result);
    } catch (_) {
      // Offline or the server restarted: the server checks everything on submit anyway.
    }
  }

  function recheckAll(except) {
    for (const row of rows()) {
      if (row !== except && row.querySelector("input[name=spot_id]").value.trim()) check(row);
    }
  }

  function schedule(row, delay) {
    clearTimeout(timers.get(row));
    timers.set(row, setTimeout(() => { check(row); recheckAll(row); }, delay));
  }

  rowsBox.addEventListener("input", (event) => {
    const row = event.target.closest("[data-row]");
    if (row) schedule(row, 400);
  });
  rowsBox.addEventListener("change", (event) => {
    const row = event.target.closest("[data-row]");
    if (row) schedule(row, 0);
  });

  form.querySelector("[data-add-row]").addEventListener("click", (event) => {
    event.preventDefault();
    const row = rows()[0].cloneNode(true);
    const id = nextId++;
    const n = rows().length + 1;
    const select = row.querySelector("select");
    const input = row.querySelector("input");
    const message = row.querySelector(".message");
    select.id = `location-${id}`;
    select.selectedIndex = 0;
    input.id = `spot_id-${id}`;
    input.value = "";
    message.id = `message-${id}`;
    input.setAttribute("aria-describedby", message.id);
    const [locLabel, spotLabel] = row.querySelectorAll("label");
    locLabel.htmlFor = select.id;
    locLabel.textContent = `Location, row ${n}`;
    spotLabel.htmlFor = input.id;
    spotLabel.textContent = `SpotID, row ${n}`;
    show(row, null);
    rowsBox.appendChild(row);
    select.focus();
  });
})();
