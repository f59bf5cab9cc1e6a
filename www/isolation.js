// Cross-origin isolation on any host. A page served without the COOP/COEP headers (a static host
// that cannot set them) registers isolation-worker.js, which adds them, and reloads once so that
// the page itself comes through it; the app starts after this module (main.js imports it first),
// so the reload loses nothing. Where service workers are unavailable, the page runs as it is, and a
// run trains on one thread.
const RELOADED = 'whetstone-isolation-reloaded';
// How long the page waits for the worker to take over before it starts as it is.
const READY_MS = 3000;

if (!self.crossOriginIsolated && 'serviceWorker' in navigator && self.isSecureContext) {
  try {
    const controlled = Boolean(navigator.serviceWorker.controller);
    await navigator.serviceWorker.register(new URL('../isolation-worker.js', import.meta.url));
    // Reloading helps only a page the worker did not serve, and only once a visit (a reload that
    // bypasses the worker must not start a loop).
    if (!controlled && !sessionStorage.getItem(RELOADED)) {
      await Promise.race([navigator.serviceWorker.ready, new Promise((_, fail) => setTimeout(fail, READY_MS))]);
      sessionStorage.setItem(RELOADED, '1');
      location.reload();
      await new Promise(() => {});
    }
  } catch {
    // No service worker here (a private window may refuse it): one thread.
  }
}
