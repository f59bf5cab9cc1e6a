// The layer editor: the model summary as a table whose layers can be edited, added, moved and
// removed, with each weighted layer's own L2 penalty and a freeze switch. It renders a parsed spec
// and its summary and reports every change through `edit`; the page keeps the JSON spec in step.
import { catalogue } from '../state/catalogue.js';
import { element } from '../ui/dom.js';

/** A layer kind's settings, as the core's catalogue describes them. */
const fieldsOf = (type) => catalogue.layers.find((l) => l.name === type)?.fields ?? [];

/** A new layer of `type` that takes inputs of `shape`; a residual block gets two inner layers that
 * keep that shape (a padded 3×3 convolution or a dense layer, then ReLU). */
export function newLayer(type, shape) {
  if (type === 'residual') {
    const inner =
      shape?.length === 3
        ? { type: 'conv2d', filters: shape[0], kernel: 3, stride: 1, padding: 1 }
        : { type: 'dense', units: shape?.[0] ?? 16 };
    return { type, layers: [inner, { type: 'relu' }] };
  }
  // An image [c, h, w] becomes h steps of c·w values (its rows); a flat [k], k steps of 1.
  if (type === 'reshape' && shape) {
    return {
      type,
      shape: shape.length === 3 ? [shape[1], shape[0] * shape[2]] : shape.length === 1 ? [shape[0], 1] : shape,
    };
  }
  return Object.fromEntries([['type', type], ...fieldsOf(type).map((f) => [f.name, f.default])]);
}

function row(cells, tag = 'td') {
  return element('tr', {}, ...cells.map((c) => element(tag, {}, c)));
}

/**
 * Fills `table` with `spec`'s layers. `summary` is null when the spec does not fit, and `error`
 * then says why (naming the layer, which is marked). `options[i]` is layer i's `{l2, frozen}`.
 * `edit(layers, options)` receives the changed layers and options.
 */
export function renderLayerTable(table, spec, summary, error, options, edit) {
  const layers = spec.layers;
  const change = (mutate) => {
    const nextLayers = layers.map((l) => ({ ...l }));
    const nextOptions = layers.map((_, i) => ({ ...options[i] }));
    mutate(nextLayers, nextOptions);
    edit(nextLayers, nextOptions);
  };
  // The layer an error names, and the setting of it that the error says is wrong.
  const [, badNumber, badField] =
    error?.match(/^layer (\d+) \([^)]*\): (\w+) must be/) ?? error?.match(/^layer (\d+) /) ?? [];
  const badLayer = Number(badNumber);
  const rows = [
    row(['#', 'layer', 'output', 'params', 'FLOPs'], 'th'),
    row(['', 'input', spec.input.join('×'), '', '']),
  ];
  layers.forEach((layer, i) => {
    const info = summary?.layers[i];
    const head = row([
      String(i + 1),
      layer.type,
      info ? info.output.join('×') : '',
      info ? info.params.toLocaleString() : '',
      info ? info.flops.toLocaleString() : '',
    ]);
    head.className = `layer${badLayer === i + 1 ? ' bad' : ''}`;
    const controls = element('div', { className: 'layer-controls' });
    if (layer.type === 'residual') {
      controls.append(
        element('span', {
          className: 'inner',
          textContent: `x + (${(layer.layers ?? []).map((l) => l.type).join(' → ')}); edit its layers in the JSON`,
        }),
      );
    }
    for (const { name: key, label, default: fallback, kind } of fieldsOf(layer.type)) {
      const value = layer[key] ?? fallback;
      const input =
        kind === 'boolean'
          ? element('input', { type: 'checkbox', checked: Boolean(value), title: label })
          : element('input', {
              type: 'text',
              value: Array.isArray(value) ? value.join(', ') : value,
              className: kind === 'list' ? 'list' : 'small',
              title: label,
            });
      input.dataset.layer = i + 1;
      input.dataset.field = key;
      input.setAttribute('aria-label', `layer ${i + 1} (${layer.type}): ${label}`);
      if (badLayer === i + 1 && badField === key) input.setAttribute('aria-invalid', 'true');
      // A value that is not what the field takes goes into the spec as typed, so that the summary
      // names the layer and says what is wrong.
      input.addEventListener('change', () =>
        change((ls) => {
          if (kind === 'boolean') {
            ls[i][key] = input.checked;
          } else if (kind === 'list') {
            const parts = input.value.split(',').map((p) => Number(p.trim()));
            ls[i][key] = parts.every((p) => Number.isInteger(p) && p > 0) ? parts : input.value;
          } else {
            const number = Number(input.value);
            ls[i][key] =
              input.value.trim() !== '' && Number.isFinite(number) && (kind !== 'integer' || Number.isInteger(number))
                ? number
                : input.value;
          }
        }),
      );
      controls.append(
        kind === 'boolean' ? element('label', {}, input, ` ${label}`) : element('label', {}, `${label} `, input),
      );
    }
    if (catalogue.layers.find((l) => l.name === layer.type)?.weighted) {
      const l2 = element('input', {
        type: 'text',
        value: options[i]?.l2 ?? '',
        placeholder: 'global',
        className: 'small',
        title: "This layer's L2 penalty, in place of the global one",
      });
      l2.dataset.layer = i + 1;
      l2.dataset.field = 'l2';
      l2.setAttribute('aria-label', `layer ${i + 1} (${layer.type}): L2 penalty`);
      l2.addEventListener('change', () =>
        change((_, os) => {
          os[i].l2 = l2.value.trim();
        }),
      );
      const frozen = element('input', {
        type: 'checkbox',
        checked: Boolean(options[i]?.frozen),
        title: "Frozen: training leaves this layer's weights as they are",
      });
      frozen.dataset.layer = i + 1;
      frozen.dataset.field = 'frozen';
      frozen.setAttribute('aria-label', `freeze layer ${i + 1} (${layer.type})`);
      frozen.addEventListener('change', () =>
        change((_, os) => {
          os[i].frozen = frozen.checked;
        }),
      );
      controls.append(element('label', {}, 'L2 ', l2), element('label', {}, frozen, ' freeze'));
    }
    const move = (label, title, enabled, mutate) => {
      const b = element('button', { textContent: label, title, disabled: !enabled, className: 'icon' });
      b.dataset.layer = i + 1;
      b.setAttribute('aria-label', `${title}: layer ${i + 1} (${layer.type})`);
      b.addEventListener('click', () => change(mutate));
      return b;
    };
    const swap = (j) => (ls, os) => {
      [ls[i], ls[j]] = [ls[j], ls[i]];
      [os[i], os[j]] = [os[j], os[i]];
    };
    controls.append(
      move('↑', 'Move up', i > 0, swap(i - 1)),
      move('↓', 'Move down', i < layers.length - 1, swap(i + 1)),
      move('✕', 'Remove', layers.length > 1, (ls, os) => {
        ls.splice(i, 1);
        os.splice(i, 1);
      }),
    );
    const controlRow = element('tr', { className: 'controls' }, element('td'), element('td', { colSpan: 4 }, controls));
    rows.push(head, controlRow);
  });
  const kind = element(
    'select',
    { id: 'add-layer-kind', title: 'Kind of layer to add' },
    ...catalogue.layers.map((l) => Object.assign(new Option(l.label, l.name), { title: l.doc })),
  );
  const add = element('button', { id: 'add-layer', textContent: 'Add layer' });
  add.addEventListener('click', () =>
    change((ls, os) => {
      // Before the output layer, so that the model still ends in its class scores.
      const at = Math.max(ls.length - 1, 0);
      const shape = at === 0 ? spec.input : summary?.layers[at - 1]?.output;
      ls.splice(at, 0, newLayer(kind.value, shape));
      os.splice(at, 0, {});
    }),
  );
  rows.push(
    element(
      'tr',
      { className: 'controls' },
      element('td'),
      element(
        'td',
        { colSpan: 4 },
        element('div', { className: 'layer-controls' }, kind, add, ' before the output layer'),
      ),
    ),
  );
  if (summary) {
    rows.push(row(['', 'total', '', summary.params.toLocaleString(), summary.flops.toLocaleString()], 'th'));
  } else {
    rows.push(element('tr', { className: 'error' }, element('td', { colSpan: 5, textContent: error })));
  }
  table.replaceChildren(...rows);
  table.classList.toggle('invalid', !summary);
}
