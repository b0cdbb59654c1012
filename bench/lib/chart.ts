/**
 * The suite's chart, as a hand-written SVG (no plotting package to install):
 * latency percentiles (p50 solid, p99 dashed) against achieved throughput,
 * log–log, one colour per target, the ceilings drawn as vertical lines.
 */
export interface Series {
  label: string;
  points: { throughput: number; p50: number; p99: number }[];
}

export interface Ceiling {
  label: string;
  perSecond: number;
}

const COLOURS = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** Renders the chart; `title` is its heading. */
export function latencyChart(title: string, series: Series[], ceilings: Ceiling[]): string {
  const W = 960, H = 560, left = 70, right = 250, top = 40, bottom = 60;
  const plotW = W - left - right, plotH = H - top - bottom;
  const xs = [
    ...series.flatMap((s) => s.points.map((p) => p.throughput)),
    ...ceilings.map((c) => c.perSecond),
  ].filter((x) => x > 0);
  const ys = series.flatMap((s) => s.points.flatMap((p) => [p.p50, p.p99])).filter((y) => y > 0);
  const decade = (v: number, up: boolean) =>
    10 ** (up ? Math.ceil(Math.log10(v)) : Math.floor(Math.log10(v)));
  const [x0, x1] = [decade(Math.min(...xs), false), decade(Math.max(...xs) * 1.05, true)];
  const [y0, y1] = [decade(Math.min(...ys), false), decade(Math.max(...ys) * 1.05, true)];
  const sx = (x: number) => left + (Math.log10(x / x0) / Math.log10(x1 / x0)) * plotW;
  const sy = (y: number) => top + plotH - (Math.log10(y / y0) / Math.log10(y1 / y0)) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  // Grid at each decade and at 2× and 5× within it.
  for (let d = x0; d <= x1; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > x1) break;
      out.push(`<line x1="${sx(v)}" y1="${top}" x2="${sx(v)}" y2="${top + plotH}" stroke="#eee"/>`);
      out.push(
        `<text x="${sx(v)}" y="${top + plotH + 16}" text-anchor="middle">${
          v.toLocaleString("en")
        }</text>`,
      );
    }
  }
  for (let d = y0; d <= y1; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > y1) break;
      out.push(
        `<line x1="${left}" y1="${sy(v)}" x2="${left + plotW}" y2="${sy(v)}" stroke="#eee"/>`,
      );
      out.push(
        `<text x="${left - 6}" y="${sy(v) + 4}" text-anchor="end">${+v.toPrecision(3)}</text>`,
      );
    }
  }
  out.push(
    `<rect x="${left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
  );
  out.push(
    `<text x="${left + plotW / 2}" y="${
      H - 18
    }" text-anchor="middle">achieved throughput, requests/s (log)</text>`,
  );
  out.push(
    `<text transform="translate(18 ${
      top + plotH / 2
    }) rotate(-90)" text-anchor="middle">latency ms (log): p50 solid, p99 dashed</text>`,
  );
  ceilings.forEach((c, i) => {
    const x = sx(c.perSecond);
    out.push(
      `<line x1="${x}" y1="${top}" x2="${x}" y2="${
        top + plotH
      }" stroke="#000" stroke-width="1.5" stroke-dasharray="2 3"/>`,
    );
    out.push(
      `<text x="${x - 4}" y="${top + 14 + i * 14}" text-anchor="end" font-size="11">${
        esc(c.label)
      } ${Math.round(c.perSecond).toLocaleString("en")}/s</text>`,
    );
  });
  series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = [...s.points].sort((a, b) => a.throughput - b.throughput);
    for (const [key, dash] of [["p50", ""], ["p99", ' stroke-dasharray="6 4"']] as const) {
      const d = pts.map((p, j) =>
        `${j ? "L" : "M"}${sx(p.throughput).toFixed(1)},${sy(p[key]).toFixed(1)}`
      ).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${dash}/>`);
      for (const p of pts) {
        out.push(
          `<circle cx="${sx(p.throughput).toFixed(1)}" cy="${
            sy(p[key]).toFixed(1)
          }" r="2.5" fill="${colour}"/>`,
        );
      }
    }
    const ly = top + 10 + i * 18;
    out.push(
      `<line x1="${left + plotW + 14}" y1="${ly}" x2="${
        left + plotW + 38
      }" y2="${ly}" stroke="${colour}" stroke-width="3"/>`,
    );
    out.push(`<text x="${left + plotW + 44}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}
