// Messages where the person is looking: each notice shows in the status area at the top (which
// stays in view) and, when it comes from a control, right beside that control. A field a message
// names as wrong is marked until its value changes. An error stays until it is dismissed or
// replaced; news (kind 'info') steps aside by itself after a while.
import { $, element } from './dom.js';

/** How long news stays in view. */
const INFO_MS = 12_000;

/** What counts as a control a message can sit beside. */
const CONTROL = 'button, input, select, textarea, summary, a[href]';

export class Notices {
  constructor() {
    this.local = element('p', { className: 'local-notice', role: 'alert' });
    this.local.hidden = true;
    $('notice-close').addEventListener('click', () => this.show(''));
  }

  /**
   * Shows `message` (`kind`: 'error' or 'info'; an empty message clears). `near` is the control
   * it answers; without one, the control that has the focus, if any (the one just used).
   * `field` is an input to mark as the cause.
   */
  show(message, kind = 'error', { near, field } = {}) {
    clearTimeout(this.timer);
    if (message && kind === 'info') this.timer = setTimeout(() => this.hide(), INFO_MS);
    const status = $('notice');
    status.textContent = message;
    status.className = kind;
    status.hidden = !message;
    $('notice-close').hidden = !message;
    for (const bad of document.querySelectorAll('[aria-invalid="true"]')) bad.removeAttribute('aria-invalid');
    this.field = null;
    if (!message) {
      this.local.hidden = true;
      return;
    }
    if (field) this.mark(field);
    const focused = document.activeElement?.matches?.(CONTROL) ? document.activeElement : null;
    const anchor = near ?? focused;
    if (!anchor || anchor.closest('header') || !anchor.closest('main')) {
      this.local.hidden = true;
      return;
    }
    // After the row or label that holds the control, so that it does not split a row of buttons.
    const holder = anchor.closest('.buttons, label, .fields, li, tr') ?? anchor;
    const place = holder.matches('tr') ? holder.closest('table') : holder;
    place.after(this.local);
    this.local.textContent = message;
    this.local.className = `local-notice ${kind}`;
    this.local.hidden = false;
  }

  /** Takes the notice out of view; its text stays until the next message. */
  hide() {
    $('notice').hidden = true;
    $('notice-close').hidden = true;
    this.local.hidden = true;
  }

  /** Marks `field` as holding a bad value until it is edited; editing it also takes the message
   * about it away. */
  mark(field) {
    field.setAttribute('aria-invalid', 'true');
    this.field = field;
    field.addEventListener(
      'input',
      () => {
        field.removeAttribute('aria-invalid');
        if (this.field === field) this.show('');
      },
      { once: true },
    );
  }
}
