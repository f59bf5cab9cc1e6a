// Attention weights as heat maps: for each attention layer and head, a grid of the typed text's
// tokens, a row for each token as it looks (the query) and a column for each token it looks at
// (the key), darker where it looks more. Each map's label says where every token looks most.

const CELL = 18;
const MARGIN = 16;

/** One head's weights `[steps, steps]` (rows from `offset`) over `tokens`, on a canvas. Characters
 * label both axes; words label the rows, numbered, and their numbers the columns. */
function headCanvas(weights, offset, steps, tokens) {
  const n = tokens.length;
  const words = tokens.some((t) => [...t].length > 1);
  const rows = words ? tokens.map((t, i) => `${i + 1} ${t}`) : tokens;
  const columns = words ? tokens.map((_, i) => String(i + 1)) : tokens;
  const measure = document.createElement('canvas').getContext('2d');
  measure.font = '12px sans-serif';
  const left = Math.max(MARGIN, ...rows.map((t) => Math.ceil(measure.measureText(t).width) + 6));
  const canvas = Object.assign(document.createElement('canvas'), {
    width: left + n * CELL,
    height: MARGIN + n * CELL,
  });
  const ctx = canvas.getContext('2d');
  ctx.font = '12px sans-serif';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#334155';
  ctx.textAlign = 'center';
  columns.forEach((t, i) => {
    ctx.fillText(t, left + i * CELL + CELL / 2, MARGIN / 2);
  });
  ctx.textAlign = words ? 'right' : 'center';
  rows.forEach((t, i) => {
    ctx.fillText(t, words ? left - 4 : left / 2, MARGIN + i * CELL + CELL / 2);
  });
  for (let q = 0; q < n; q++) {
    for (let k = 0; k < n; k++) {
      const w = weights[offset + q * steps + k];
      ctx.fillStyle = `rgba(37, 99, 235, ${Math.min(1, Math.max(0, w))})`;
      ctx.fillRect(left + k * CELL, MARGIN + q * CELL, CELL - 1, CELL - 1);
    }
  }
  return canvas;
}

/** Where each token looks most, in words. */
function describe(weights, offset, steps, tokens) {
  return tokens
    .map((t, q) => {
      let best = 0;
      for (let k = 1; k < tokens.length; k++)
        if (weights[offset + q * steps + k] > weights[offset + q * steps + best]) best = k;
      return `${t} (${q + 1}) looks most at ${tokens[best]} (${best + 1})`;
    })
    .join('; ');
}

/** Every head of every attention layer in `maps` (`{shape: [1, heads, steps, steps], weights}`)
 * over `tokens` (of a text read as `length` steps), into `container`; nothing when the model has no
 * attention. */
export function renderAttention(container, maps, tokens, length) {
  const figures = [];
  (maps ?? []).forEach(({ shape, weights }, layer) => {
    const [, heads, steps] = shape;
    // A class token's place comes before the text's (a map longer than the text's length).
    const shown = [...Array(Math.max(0, steps - length)).fill('CLS'), ...tokens];
    for (let h = 0; h < heads; h++) {
      const offset = h * steps * steps;
      const canvas = headCanvas(weights, offset, steps, shown);
      const label = `Layer ${layer + 1}, head ${h + 1}`;
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', `${label}: ${describe(weights, offset, steps, shown)}`);
      const figure = document.createElement('figure');
      figure.append(canvas, Object.assign(document.createElement('figcaption'), { textContent: label }));
      figures.push(figure);
    }
  });
  container.replaceChildren(...figures);
  if (figures.length)
    container.prepend(
      Object.assign(document.createElement('p'), {
        className: 'hint',
        textContent: `Where each head looks: a row for each ${tokens.some((t) => [...t].length > 1) ? 'word' : 'character'}, darker where it attends more.`,
      }),
    );
}
