// Views of the loaded data: the first rows of a table, a row of images per class, one small image
// of each class, and the files an upload left out.
import { $ } from './dom.js';
import { imageCanvas } from './samples.js';

/** The files an upload could not use, one line each with the reason. */
export function showProblems(problems) {
  const list = $('upload-problems');
  list.replaceChildren(
    ...problems
      .slice(0, 50)
      .map(({ file, reason }) => Object.assign(document.createElement('li'), { textContent: `${file}: ${reason}` })),
  );
  if (problems.length > 50)
    list.append(Object.assign(document.createElement('li'), { textContent: `… and ${problems.length - 50} more` }));
  list.hidden = problems.length === 0;
}

/** The first rows of a table as loaded: categories by name, missing values marked. */
export function renderTable(info) {
  const table = $('data-table');
  table.hidden = !info.columns?.length;
  if (table.hidden) return table.replaceChildren();
  const cols = info.columns;
  const head = document.createElement('tr');
  for (const c of cols)
    head.append(
      Object.assign(document.createElement('th'), {
        textContent: c.name,
        title: c.categories ? `categorical: ${c.categories.join(', ')}` : 'numeric',
      }),
    );
  head.append(Object.assign(document.createElement('th'), { textContent: 'label' }));
  const rows = [];
  for (let r = 0; r * cols.length < info.rows.length; r++) {
    const tr = document.createElement('tr');
    cols.forEach((c, k) => {
      const v = info.rows[r * cols.length + k];
      const td = document.createElement('td');
      if (Number.isNaN(v)) {
        td.textContent = 'missing';
        td.className = 'missing';
      } else {
        td.textContent = c.categories ? c.categories[v] : String(Math.round(v * 1e4) / 1e4);
      }
      tr.append(td);
    });
    tr.append(Object.assign(document.createElement('td'), { textContent: info.classes[info.rowLabels[r]] }));
    rows.push(tr);
  }
  table.replaceChildren(head, ...rows);
}

/** A row of images per class. */
export function renderGallery(info) {
  const gallery = $('data-gallery');
  gallery.hidden = !info.gallery;
  if (!info.gallery) return gallery.replaceChildren();
  gallery.replaceChildren(
    ...info.gallery.map(({ label, images }) => {
      const row = Object.assign(document.createElement('div'), { className: 'gallery-row' });
      row.append(
        Object.assign(document.createElement('span'), { className: 'gallery-class', textContent: info.classes[label] }),
      );
      row.append(...images.map((img) => imageCanvas(img, info.shape)));
      return row;
    }),
  );
}

/** A few texts of each class (a text data set). */
export function renderTexts(info) {
  const list = $('data-texts');
  list.hidden = !info.texts;
  if (!info.texts) return list.replaceChildren();
  list.replaceChildren(
    ...info.texts.flatMap(({ label, texts }) => [
      Object.assign(document.createElement('dt'), { textContent: info.classes[label] }),
      Object.assign(document.createElement('dd'), { textContent: texts.join(', ') }),
    ]),
  );
}

/** One small image of each class, for the start view. */
export function renderStrip(info) {
  $('data-strip').replaceChildren(
    ...(info.gallery ?? []).map(({ label, images }) => {
      const canvas = imageCanvas(images[0], info.shape);
      canvas.title = info.classes[label];
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `a sample of class ${info.classes[label]}`);
      return canvas;
    }),
  );
}
