// DOM helpers used by every panel.

/** The element with this id. */
export const $ = (id) => document.getElementById(id);

/** A new element with `props` and `children`. */
export function element(tag, props = {}, ...children) {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children);
  return el;
}

/** Starts a download of `bytes` as `filename`. */
export function download(bytes, filename, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = element('a', { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
