// Progressive enhancement only: every page works without this script.
"use strict";

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy[data-copy]");
  if (!button) return;
  const input = document.getElementById(button.dataset.copy);
  if (!input) return;
  const done = () => {
    const label = button.textContent;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, () => { input.select(); });
  } else {
    input.select();
    try { document.execCommand("copy"); done(); } catch (_) { /* the text stays selected */ }
  }
});

document.addEventListener("submit", (event) => {
  const form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.dataset.confirm)) event.preventDefault();
});

// Live updates: pages that name an event stream (data-events on <body>) refresh their
// live regions ([data-live] with an id) when the scorecard changes, and follow the gate
// walk when it moves. EventSource reconnects by itself; on every (re)connection the
// server greets with its revision, and a page rendered at an older one catches up.
(() => {
  const body = document.body;
  const url = body.dataset.events;
  if (!url || !window.EventSource) return;
  let pending = false;
  let refreshing = false;

  const typing = () => {
    const el = document.activeElement;
    return el && el.closest("[data-live]") && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName);
  };

  const refresh = async () => {
    if (refreshing) { pending = true; return; }
    if (typing()) { pending = true; return; }
    refreshing = true;
    try {
      const response = await fetch(location.href, { headers: { "Accept": "text/html" }, cache: "no-store" });
      if (response.status === 404) { location.reload(); return; }
      if (!response.ok) return;
      const html = await response.text();
      const fresh = new DOMParser().parseFromString(html, "text/html");
      document.querySelectorAll("[data-live][id]").forEach((region) => {
        const next = fresh.getElementById(region.id);
        if (next) region.innerHTML = next.innerHTML;
      });
      if (fresh.body.dataset.revision) body.dataset.revision = fresh.body.dataset.revision;
      body.dispatchEvent(new CustomEvent("live:refreshed"));
    } catch (_) {
      // The stream will reconnect and greet again; the page catches up then.
    } finally {
      refreshing = false;
      if (pending) { pending = false; setTimeout(refresh, 50); }
    }
  };

  document.addEventListener("focusout", () => { if (pending) setTimeout(refresh, 0); });

  const source = new EventSource(url);
  const behind = (revision) => Number(revision) !== Number(body.dataset.revision);
  source.addEventListener("hello", (e) => { if (behind(e.data)) refresh(); });
  source.addEventListener("changed", () => refresh());
  source.addEventListener("walk", (e) => {
    const follow = body.dataset.walkFollow;
    if (follow && body.dataset.walkAt !== e.data) location.assign(follow.replace("{id}", e.data));
  });
  window.addEventListener("beforeunload", () => source.close());
})();

// Gate walk shortcuts: → or n for next, ← or p for previous, unless typing.
document.addEventListener("keydown", (event) => {
  if (event.altKey || event.ctrlKey || event.metaKey) return;
  const el = document.activeElement;
  if (el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) return;
  const key = event.key;
  const target = key === "ArrowRight" || key === "n" ? "next" : key === "ArrowLeft" || key === "p" ? "prev" : null;
  if (!target) return;
  const button = document.querySelector(`[data-walk="${target}"]`);
  if (button) { event.preventDefault(); button.click(); }
});
