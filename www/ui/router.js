// The page's views, one per part of the workflow, each with its own address: `#/` (start),
// `#/data`, …, `#/lessons/<lesson>`. Back and forward, a pasted link and a reload all land on the
// view the address names. A section of the page belongs to the views its `data-views` lists.
import { $ } from './dom.js';

const VIEWS = {
  start: 'Start',
  data: 'Data',
  model: 'Model',
  train: 'Train',
  evaluate: 'Evaluate',
  tune: 'Tune',
  ensembles: 'Ensembles',
  deploy: 'Deploy and monitor',
  lessons: 'Lessons',
  share: 'Share',
};

/** The view, its parameter (`#/lessons/bias` → `bias`) and a settings link's payload in `hash`. */
export function parseRoute(hash) {
  const settings = /^#settings=(.+)$/.exec(hash);
  if (settings) return { view: null, settings: hash };
  const [, view = '', param = null] = /^#\/?([^/?]*)\/?([^/?]*)?/.exec(hash) ?? [];
  return { view: view || 'start', param: param ? decodeURIComponent(param) : null };
}

export class Router {
  /**
   * `hooks.view(view, param)` is told each view shown; `hooks.settings(hash)` gets a settings
   * link opened in this tab (the address then becomes the start view's); `hooks.unknown(view)`
   * is told an address that names no view.
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.current = null;
    addEventListener('hashchange', () => this.apply({ focus: true }));
  }

  /** Shows the view the address names. */
  apply({ focus = false } = {}) {
    const route = parseRoute(location.hash);
    if (route.settings) {
      history.replaceState(null, '', `${location.pathname}${location.search}#/`);
      this.hooks.settings(route.settings);
      this.show('start', null, focus);
      return;
    }
    if (!(route.view in VIEWS)) {
      this.hooks.unknown(route.view);
      history.replaceState(null, '', `${location.pathname}${location.search}#/`);
      this.show('start', null, focus);
      return;
    }
    this.show(route.view, route.param, focus);
  }

  show(view, param, focus) {
    const main = $('view');
    main.dataset.view = view;
    main.classList.toggle('presenting', view === 'lessons' && Boolean(param));
    for (const section of main.querySelectorAll(':scope > section')) {
      section.hidden = !section.dataset.views.split(' ').includes(view);
    }
    for (const link of document.querySelectorAll('nav a[data-route]')) {
      if (link.dataset.route === view) link.setAttribute('aria-current', 'page');
      else link.removeAttribute('aria-current');
    }
    $('view-title').textContent = VIEWS[view];
    document.title = `${VIEWS[view]} · Whetstone`;
    const changed = this.current !== view;
    this.current = view;
    this.hooks.view(view, param);
    // A person who followed a link starts reading at the top of the new view.
    if (focus && changed) {
      scrollTo(0, 0);
      main.focus({ preventScroll: true });
    }
  }

  /** Goes to `view` (a history entry, as a click on its link makes). */
  go(view, param) {
    const hash = `#/${view === 'start' ? '' : view}${param ? `/${encodeURIComponent(param)}` : ''}`;
    if (location.hash === hash) this.apply();
    else location.hash = hash;
  }
}
