/** Hand-written SVG charts: no browser, no dependency, stable text so a diff of two runs stays readable. */

const PALETTE = ['#2f6f4f', '#c9792b', '#4a6fa5', '#8e5ea2', '#b8483e'];
/** Font attributes; the size is a parameter so no tag carries font-size twice (a duplicate attribute is not XML). */
const font = (size = 12) => `font-family="system-ui, sans-serif" font-size="${size}"`;

function escape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function format(value: number): string {
  if (value >= 10_000) return `${Math.round(value / 1_000)}k`;
  if (value >= 1_000) return `${(value / 1_000).toFixed(1)}k`;
  if (value >= 100) return String(Math.round(value));
  return String(Math.round(value * 10) / 10);
}

export interface BarGroup {
  label: string;
  values: (number | null)[];
}

/** Grouped vertical bars: one group per x label, one bar per series, each bar labelled with its value. */
export function groupedBars(options: {
  title: string;
  yLabel: string;
  series: string[];
  groups: BarGroup[];
  width?: number;
  height?: number;
}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 360;
  const m = { top: 48, right: 16, bottom: 56, left: 64 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const max = niceMax(Math.max(...options.groups.flatMap((g) => g.values.map((v) => v ?? 0))));
  const groupW = plotW / options.groups.length;
  const barW = Math.min(48, (groupW * 0.8) / options.series.length);
  const y = (v: number) => m.top + plotH - (v / max) * plotH;
  const parts: string[] = [];
  parts.push(
    `<text x="${width / 2}" y="20" text-anchor="middle" ${font(15)} font-weight="600">${escape(options.title)}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const v = (max / 5) * i;
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end" ${font()}>${format(v)}</text>`);
  }
  parts.push(
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" ${font()}>${escape(options.yLabel)}</text>`,
  );
  options.groups.forEach((g, gi) => {
    const x0 = m.left + gi * groupW + (groupW - barW * options.series.length) / 2;
    g.values.forEach((v, si) => {
      if (v === null) return;
      const x = x0 + si * barW;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(m.top + plotH - y(v)).toFixed(1)}" fill="${PALETTE[si % PALETTE.length]}"/>`,
      );
      parts.push(
        `<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(y(v) - 4).toFixed(1)}" text-anchor="middle" ${font(10)}>${format(v)}</text>`,
      );
    });
    parts.push(
      `<text x="${(m.left + gi * groupW + groupW / 2).toFixed(1)}" y="${m.top + plotH + 18}" text-anchor="middle" ${font()}>${escape(g.label)}</text>`,
    );
  });
  parts.push(legend(options.series, m.left, height - 18));
  return svg(width, height, parts);
}

export interface LineSeries {
  name: string;
  points: { x: number; y: number }[];
}

/** Lines over a shared x axis, with an optional horizontal reference line (a target). */
export function lines(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  reference?: { y: number; label: string };
  width?: number;
  height?: number;
}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 360;
  const m = { top: 48, right: 16, bottom: 64, left: 64 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const all = options.series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p.x));
  const yMax = niceMax(Math.max(options.reference?.y ?? 0, ...all.map((p) => p.y)));
  const x = (v: number) => m.left + (v / xMax) * plotW;
  const y = (v: number) => m.top + plotH - (Math.max(0, v) / yMax) * plotH;
  const parts: string[] = [];
  parts.push(
    `<text x="${width / 2}" y="20" text-anchor="middle" ${font(15)} font-weight="600">${escape(options.title)}</text>`,
  );
  for (let i = 0; i <= 5; i++) {
    const v = (yMax / 5) * i;
    parts.push(`<line x1="${m.left}" x2="${width - m.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end" ${font()}>${format(v)}</text>`);
  }
  for (let i = 0; i <= 5; i++) {
    const v = (xMax / 5) * i;
    parts.push(`<text x="${x(v)}" y="${m.top + plotH + 16}" text-anchor="middle" ${font()}>${format(v)}</text>`);
  }
  parts.push(
    `<text x="${m.left + plotW / 2}" y="${m.top + plotH + 34}" text-anchor="middle" ${font()}>${escape(options.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle" ${font()}>${escape(options.yLabel)}</text>`,
  );
  if (options.reference) {
    const ry = y(options.reference.y);
    parts.push(
      `<line x1="${m.left}" x2="${width - m.right}" y1="${ry}" y2="${ry}" stroke="#b8483e" stroke-dasharray="6 4"/>`,
    );
    parts.push(
      `<text x="${width - m.right - 4}" y="${ry - 4}" text-anchor="end" ${font()} fill="#b8483e">${escape(options.reference.label)}</text>`,
    );
  }
  options.series.forEach((s, si) => {
    const d = s.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.x).toFixed(1)} ${y(p.y).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${PALETTE[si % PALETTE.length]}" stroke-width="2"/>`);
  });
  parts.push(
    legend(
      options.series.map((s) => s.name),
      m.left,
      height - 14,
    ),
  );
  return svg(width, height, parts);
}

function legend(names: string[], x0: number, y: number): string {
  let x = x0;
  return names
    .map((name, i) => {
      const item = `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${x + 16}" y="${y}" ${font()}>${escape(name)}</text>`;
      x += 28 + name.length * 7;
      return item;
    })
    .join('');
}

function svg(width: number, height: number, parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<rect width="100%" height="100%" fill="#fff"/>
${parts.join('\n')}
</svg>
`;
}
