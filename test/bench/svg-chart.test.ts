import { describe, expect, it } from 'vitest';
import { groupedBars, lines } from './svg-chart.ts';

interface Element {
  name: string;
  attributes: Record<string, string>;
  text: string;
}

const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;

/** Fails on a bare `&` (one that starts no entity reference) or a `<` in character data or an attribute value. */
function checkCharacters(text: string, where: string): void {
  expect(text, `raw < in ${where}`).not.toContain('<');
  for (let i = text.indexOf('&'); i !== -1; i = text.indexOf('&', i + 1)) {
    ENTITY.lastIndex = i;
    expect(ENTITY.test(text), `bare & in ${where}: ${JSON.stringify(text)}`).toBe(true);
  }
}

const decode = (text: string) =>
  text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&quot;', '"').replaceAll('&amp;', '&');

/**
 * A small XML well-formedness check (enough for these charts): one root element, every tag closed in order, attributes
 * `name="value"` with no name twice in a tag, no raw `<` or bare `&` in text or values. Returns the elements in
 * document order with their own text.
 */
function parseXml(xml: string): Element[] {
  const elements: Element[] = [];
  const open: Element[] = [];
  let roots = 0;
  let i = 0;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const text = xml.slice(i, lt === -1 ? xml.length : lt);
    checkCharacters(text, 'text');
    if (open.length === 0) expect(text.trim(), 'text outside the root element').toBe('');
    else open.at(-1)!.text += decode(text);
    if (lt === -1) break;
    const gt = xml.indexOf('>', lt);
    expect(gt, `unterminated tag at ${lt}`).toBeGreaterThan(lt);
    const tag = xml.slice(lt + 1, gt);
    i = gt + 1;
    const close = /^\/([\w:-]+)\s*$/.exec(tag);
    if (close) {
      const top = open.pop();
      expect(top?.name, `</${close[1]}> closes ${top ? `<${top.name}>` : 'nothing'}`).toBe(close[1]);
      continue;
    }
    const start = /^([\w:-]+)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)$/.exec(tag);
    expect(start, `malformed tag <${tag}>`).not.toBeNull();
    const [, name, attrText, selfClosing] = start!;
    const attributes: Record<string, string> = {};
    for (const [, key, value] of attrText!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
      expect(Object.hasOwn(attributes, key!), `attribute ${key} twice in <${name}>`).toBe(false);
      checkCharacters(value!, `${name}@${key}`);
      attributes[key!] = decode(value!);
    }
    const element = { name: name!, attributes, text: '' };
    elements.push(element);
    if (open.length === 0) roots += 1;
    if (!selfClosing) open.push(element);
  }
  expect(
    open.map((e) => e.name),
    'unclosed elements',
  ).toEqual([]);
  expect(roots, 'root elements').toBe(1);
  return elements;
}

const texts = (elements: Element[]) => elements.filter((e) => e.name === 'text').map((e) => e.text);
const numeric = (value: string | undefined) => Number(value);

describe('the XML check itself', () => {
  it('rejects what the charts must not produce', () => {
    expect(() => parseXml('<svg><text>a</svg>')).toThrow();
    expect(() => parseXml('<svg><text a="1" a="2">x</text></svg>')).toThrow(/twice/);
    expect(() => parseXml('<svg><text>a & b</text></svg>')).toThrow(/bare &/);
    expect(() => parseXml('<svg/><svg/>')).toThrow(/root/);
    expect(parseXml('<svg><text a="1">a &amp; b &lt;c&gt;</text></svg>')[1]!.text).toBe('a & b <c>');
  });
});

describe('groupedBars', () => {
  const chart = () =>
    groupedBars({
      title: 'Refreshes & <limits>',
      yLabel: 'per second',
      series: ['refreshes', 'UPDATEs & co', 'no-op <jobs>'],
      groups: [
        { label: 'concurrency 1', values: [100, 200, 400] },
        { label: 'c < 4 & more', values: [150, null, 300] },
      ],
    });

  it('is one well-formed <svg> element with the SVG namespace and its size', () => {
    const svg = chart();
    expect(svg.startsWith('<svg ')).toBe(true);
    const elements = parseXml(svg);
    expect(elements[0]!.name).toBe('svg');
    expect(elements[0]!.attributes).toMatchObject({
      xmlns: 'http://www.w3.org/2000/svg',
      width: '720',
      height: '360',
      viewBox: '0 0 720 360',
    });
    // The title's own size, not a second font-size beside the default one.
    const title = elements.find((e) => e.name === 'text' && e.text === 'Refreshes & <limits>');
    expect(title?.attributes['font-size']).toBe('15');
  });

  it('escapes & and < in the title, series names and group labels', () => {
    const svg = chart();
    expect(svg).not.toContain('Refreshes & <limits>');
    expect(svg).toContain('Refreshes &amp; &lt;limits&gt;');
    const shown = texts(parseXml(svg));
    expect(shown).toEqual(
      expect.arrayContaining(['Refreshes & <limits>', 'UPDATEs & co', 'no-op <jobs>', 'c < 4 & more', 'per second']),
    );
  });

  it('draws one bar per non-null value, the tallest up to a round axis maximum', () => {
    const elements = parseXml(chart());
    // Bars: rects with a fill from the palette, minus the background and the 3 legend swatches.
    const rects = elements.filter((e) => e.name === 'rect');
    const bars = rects.filter((r) => r.attributes.width !== '12' && r.attributes.width !== '100%');
    expect(bars).toHaveLength(5);
    for (const b of bars) {
      expect(numeric(b.attributes.height)).toBeGreaterThan(0);
      expect(numeric(b.attributes.width)).toBeGreaterThan(0);
    }
    // The axis runs to 500 (400 rounded up to 1, 2, 2.5 or 5 × 10ⁿ): its top label, and the 400 bar at 4/5 of it.
    expect(texts(elements)).toContain('500');
    const heights = bars.map((b) => numeric(b.attributes.height));
    const plotH = 360 - 48 - 56;
    expect(Math.max(...heights)).toBeCloseTo((400 / 500) * plotH, 0);
    // Each bar is labelled with its value.
    for (const v of ['100', '200', '400', '150', '300']) expect(texts(elements)).toContain(v);
  });

  it('has a legend entry per series', () => {
    const elements = parseXml(chart());
    expect(elements.filter((e) => e.name === 'rect' && e.attributes.width === '12')).toHaveLength(3);
  });

  it('stays well-formed with only null values', () => {
    const elements = parseXml(
      groupedBars({ title: 't', yLabel: 'y', series: ['a'], groups: [{ label: 'g', values: [null] }] }),
    );
    expect(
      elements.filter((e) => e.name === 'rect' && e.attributes.width !== '12' && e.attributes.width !== '100%'),
    ).toHaveLength(0);
  });
});

describe('lines', () => {
  const chart = () =>
    lines({
      title: 'Lateness & <more>',
      xLabel: 'seconds <into> the window',
      yLabel: 'ms & late',
      series: [
        {
          name: 'p99 & co',
          points: [
            { x: 0, y: 100 },
            { x: 10, y: 300 },
            { x: 20, y: -50 },
          ],
        },
        {
          name: 'max <bucket>',
          points: [
            { x: 0, y: 200 },
            { x: 10, y: 800 },
            { x: 20, y: 400 },
          ],
        },
      ],
      reference: { y: 1_000, label: 'p99 target < 1 s & more' },
    });

  it('is one well-formed <svg> element', () => {
    const svg = chart();
    expect(svg.startsWith('<svg ')).toBe(true);
    expect(parseXml(svg)[0]!.name).toBe('svg');
  });

  it('draws one path per series, each through all of its points', () => {
    const elements = parseXml(chart());
    const paths = elements.filter((e) => e.name === 'path');
    expect(paths).toHaveLength(2);
    for (const p of paths) {
      const commands = p.attributes.d!.match(/[ML]-?[\d.]+ -?[\d.]+/g) ?? [];
      expect(commands).toHaveLength(3);
      expect(p.attributes.d).not.toMatch(/NaN|Infinity/);
    }
    expect(elements.filter((e) => e.name === 'polyline')).toHaveLength(0);
  });

  it('keeps points inside the plot: a negative value sits on the x axis, the largest x at the right edge', () => {
    const [p99] = parseXml(chart()).filter((e) => e.name === 'path');
    const points = [...p99!.attributes.d!.matchAll(/[ML](-?[\d.]+) (-?[\d.]+)/g)].map((m) => [
      Number(m[1]),
      Number(m[2]),
    ]);
    const bottom = 360 - 64;
    expect(points[2]).toEqual([720 - 16, bottom]);
    expect(points[0]![0]).toBe(64);
    for (const [, y] of points) expect(y).toBeLessThanOrEqual(bottom);
  });

  it('draws the reference line and scales the y axis to include it', () => {
    const elements = parseXml(chart());
    const dashed = elements.filter((e) => e.name === 'line' && e.attributes['stroke-dasharray']);
    expect(dashed).toHaveLength(1);
    // The reference (1,000) is the largest value: the axis tops out at it, at the plot's top edge.
    expect(numeric(dashed[0]!.attributes.y1)).toBe(48);
    expect(texts(elements)).toContain('1.0k');
  });

  it('escapes & and < in every label', () => {
    const svg = chart();
    const shown = texts(parseXml(svg));
    expect(shown).toEqual(
      expect.arrayContaining([
        'Lateness & <more>',
        'seconds <into> the window',
        'ms & late',
        'p99 & co',
        'max <bucket>',
        'p99 target < 1 s & more',
      ]),
    );
  });

  it('stays well-formed for a series without points', () => {
    const elements = parseXml(lines({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'empty', points: [] }] }));
    expect(elements.filter((e) => e.name === 'path')).toHaveLength(1);
  });
});
