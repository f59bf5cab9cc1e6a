// A service worker for static hosts that cannot send headers: it serves Whetstone's page, and what
// the page and its workers fetch, with the headers that make them cross-origin isolated (COOP and
// COEP), which a run's threads need to share memory (engine/threads.js). It changes nothing else:
// every response is the host's, and other pages of the host under its scope (a page at a host's
// root scopes them all) pass through untouched. Copied to the page's folder at build time.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

const scope = () => self.registration.scope;

/** Whether `url` is Whetstone's page (its folder or index.html) or one of its scripts and workers. */
function ours(url) {
  const { origin, pathname } = new URL(url);
  const path = `${origin}${pathname}`;
  return path === scope() || path === `${scope()}index.html` || path.startsWith(`${scope()}www/`);
}

/** The host's response with the isolation headers added. A redirected one is left as it is. */
async function isolated(request) {
  const response = await fetch(request);
  if (response.type === 'opaque' || response.type === 'opaqueredirect' || response.redirected) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (new URL(request.url).origin !== self.location.origin) return;
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  if (ours(request.url)) {
    event.respondWith(isolated(request));
    return;
  }
  if (request.mode === 'navigate') return;
  // What Whetstone's page or workers fetch (the wasm, the assets); another page's passes through.
  event.respondWith(
    self.clients
      .get(event.clientId)
      .then((client) => (client && ours(client.url) ? isolated(request) : fetch(request))),
  );
});
