// The trials of a search as a table: each trial's settings, status (its epoch while it trains),
// score and time, the best one marked, sorted by the column whose header was chosen.
import { labelOf } from '../state/search.js';
import { $, element as el } from '../ui/dom.js';

/** Fills the trials table of `tuner` (its trials, progress, best trial, session and sort). */
export function renderTrials(tuner) {
  const params = tuner.session?.params.map((p) => p.name) ?? [];
  const columns = [
    ['id', '#'],
    ['status', 'status'],
    ...params.map((p) => [p, labelOf(p)]),
    ['epochs', 'epochs'],
    ['score', tuner.score.label],
    ['seconds', 's'],
  ];
  const rows = tuner.trials.map((t) => {
    const p = tuner.progress.get(t.id);
    const pending = t.outcome.state === 'pending';
    const running = pending && p && !p.seconds;
    return {
      id: t.id + 1,
      status: pending
        ? running
          ? `epoch ${p.epoch}/${p.epochs}`
          : 'waiting'
        : t.outcome.state === 'done'
          ? 'done'
          : `failed: ${t.outcome.reason}`,
      ...Object.fromEntries(params.map((k) => [k, t.config[k]])),
      epochs: t.epochs ?? t.config.epochs ?? tuner.session.base.config.epochs,
      score: t.outcome.state === 'done' ? t.outcome.score : null,
      seconds: p?.seconds ?? null,
      best: tuner.best?.id === t.id,
    };
  });
  const { key, descending } = tuner.sort;
  const cmp = (a, b) =>
    (a == null) - (b == null) || (typeof a === 'number' ? a - b : String(a).localeCompare(String(b)));
  rows.sort((a, b) => (descending ? -1 : 1) * cmp(a[key], b[key]));
  const format = (k, v) => {
    if (v == null) return '–';
    if (k === 'score') return tuner.formatScore(v);
    if (k === 'seconds') return v.toFixed(1);
    return typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(3) : String(v);
  };
  const head = el(
    'tr',
    {},
    ...columns.map(([k, label]) => {
      const button = el('button', {
        className: 'link',
        textContent: label + (k === key ? (descending ? ' ▼' : ' ▲') : ''),
        title: `sort by ${label}`,
      });
      const th = el('th', {}, button);
      th.dataset.sort = k;
      if (k === key) th.setAttribute('aria-sort', descending ? 'descending' : 'ascending');
      button.addEventListener('click', () => {
        tuner.sort = {
          key: k,
          descending: tuner.sort.key === k ? !tuner.sort.descending : k === 'score' && tuner.score.maximize,
        };
        renderTrials(tuner);
      });
      return th;
    }),
  );
  $('tune-trials').replaceChildren(
    head,
    ...rows.map((r) => {
      const tr = el(
        'tr',
        { className: r.best ? 'best' : r.status.startsWith('failed') ? 'failed' : '' },
        ...columns.map(([k]) => el('td', { textContent: format(k, r[k]) })),
      );
      tr.dataset.trial = r.id;
      return tr;
    }),
  );
}
