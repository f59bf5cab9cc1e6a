// Start-up and settings links. At start the view the address names shows at once; the core's
// catalogue comes first (the editors and menus are its), then the uploads kept here and the saved
// settings (a link's win over them), then the first data and model. A settings link opened later
// in the same tab applies at once.
import { isBusy } from './panels/run.js';
import { setCatalogue } from './state/catalogue.js';
import { restoreSettings, takeLink } from './state/page.js';
import { saidBeforeReload } from './state/project.js';
import { parseRoute } from './ui/router.js';

/**
 * `app`; the panels start-up touches (`data`, `run`, `share`, `deployment`, `tuner`, `keeper`); `router()` (the
 * router, once built) and `renderSettings()`. Returns `start()` and `openLink(hash)`.
 */
export function startUp({ app, panels, router, renderSettings }) {
  const { engine, state, notify, queue } = app;
  const { data, run, share, deployment, tuner, keeper } = panels;
  // Whether start-up (the catalogue, the saved settings, the first data and model) is done.
  let started = false;

  /** A settings link opened in a tab that already shows the page: its settings apply at once. */
  function openLink(hash) {
    if (!started) {
      notify('The page is still starting: open the link again in a moment.');
      return;
    }
    if (isBusy(state.run.status)) {
      notify('A link with settings was opened while a run trains: stop the run, then open the link again.');
      return;
    }
    let said;
    try {
      said = takeLink(state, hash, data.known());
    } catch (err) {
      notify(err.message);
      return;
    }
    renderSettings();
    queue(() => data.restore())
      .then(() => notify(said, 'info'))
      .catch((err) => notify(err.message));
  }

  async function start() {
    // A settings link is read once the catalogue is in; any other address shows its view now.
    const linked = Boolean(parseRoute(location.hash).settings);
    if (!linked) router().apply();
    setCatalogue((await engine.request('catalogue')).catalogue);
    // The uploads kept here are data sets a saved setting may name.
    await data.listUploads();
    const aside = restoreSettings(state, data.known());
    let opened = aside ? [aside.trim(), 'info'] : null;
    // A link's settings win over the saved ones; the link is then taken off the address.
    if (linked) {
      try {
        opened = [takeLink(state, location.hash, data.known()), 'info'];
      } catch (err) {
        opened = [err.message, 'error'];
      }
      history.replaceState(null, '', `${location.pathname}${location.search}#/`);
      router().apply();
    }
    app.save();
    renderSettings();
    share.renderSaved();
    await queue(() => data.restore()).catch((err) => notify(err.message));
    // Train is enabled once there is data and a model to train.
    run.setStatus('idle');
    tuner.ready();
    await keeper.offer();
    started = true;
    await deployment.restore().catch((err) => notify(`The deployed model could not be restored: ${err.message}`));
    const imported = saidBeforeReload();
    if (imported) opened = [imported, 'info'];
    if (opened) notify(...opened);
  }

  return { start, openLink };
}
