// Hand-written SVG charts: grouped bars and log-log lines. No dependencies.
const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
export const COLORS = { knitting: "#d6336c", postMessage: "#1c7ed6", WebSocket: "#37b24d", HTTP: "#f59f00", piscina: "#7048e8", tinypool: "#0ca678", workerpool: "#868e96", "host thread": "#495057" };
const FALLBACK = ["#e8590c", "#5c940d", "#1098ad", "#ae3ec9"];
export const colorOf = (name, i = 0) => COLORS[name] ?? FALLBACK[i % FALLBACK.length];

function fmt(v) {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  if (v >= 10) return `${Math.round(v)}`;
  return `${+v.toPrecision(2)}`;
}

function logTicks(lo, hi) {
  const out = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) out.push(10 ** e);
  return out;
}

// panels: [{ title, groups: [{ label, bars: [{ series, value }] }] }]
export function groupedBars({ title, subtitle, unit, panels, series, log = true, width = 960 }) {
  const panelH = 230, top = 58, left = 64, right = 16, legendH = 26;
  const height = top + legendH + panels.length * (panelH + 40) + 10;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${left}" y="22" font-size="16" font-weight="600">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="${left}" y="40" fill="#555">${esc(subtitle)}</text>`);
  // legend
  let lx = left;
  series.forEach((s, i) => {
    out.push(`<rect x="${lx}" y="${top - 8}" width="10" height="10" fill="${colorOf(s, i)}"/><text x="${lx + 14}" y="${top + 1}">${esc(s)}</text>`);
    lx += 22 + s.length * 6.5;
  });
  const all = panels.flatMap((p) => p.groups.flatMap((g) => g.bars.map((b) => b.value))).filter((v) => v > 0);
  const lo = log ? 10 ** Math.floor(Math.log10(Math.min(...all))) : 0;
  const hi = log ? 10 ** Math.ceil(Math.log10(Math.max(...all))) : Math.max(...all) * 1.1;
  const plotW = width - left - right;
  panels.forEach((p, pi) => {
    const y0 = top + legendH + pi * (panelH + 40);
    const yOf = (v) => y0 + panelH - (log ? (Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : v / hi) * panelH;
    out.push(`<text x="${left}" y="${y0 - 6}" font-weight="600">${esc(p.title)}</text>`);
    const ticks = log ? logTicks(lo, hi) : [0, hi / 4, hi / 2, (3 * hi) / 4, hi];
    for (const t of ticks) {
      const y = yOf(t);
      out.push(`<line x1="${left}" x2="${width - right}" y1="${y}" y2="${y}" stroke="#e9ecef"/><text x="${left - 6}" y="${y + 4}" text-anchor="end" fill="#555">${fmt(t)}</text>`);
    }
    out.push(`<text x="14" y="${y0 + panelH / 2}" transform="rotate(-90 14 ${y0 + panelH / 2})" text-anchor="middle" fill="#555">${esc(unit)}${log ? " (log)" : ""}</text>`);
    const gw = plotW / p.groups.length;
    p.groups.forEach((g, gi) => {
      const gx = left + gi * gw;
      const bw = Math.min(28, (gw - 16) / Math.max(1, series.length));
      const start = gx + (gw - bw * series.length) / 2;
      series.forEach((s, si) => {
        const b = g.bars.find((x) => x.series === s);
        const x = start + si * bw;
        if (!b || !(b.value > 0)) {
          out.push(`<text x="${x + bw / 2}" y="${y0 + panelH - 4}" text-anchor="middle" fill="#adb5bd" font-size="9">n/a</text>`);
          return;
        }
        const y = yOf(b.value);
        out.push(`<rect x="${x + 1}" y="${y}" width="${bw - 2}" height="${y0 + panelH - y}" fill="${colorOf(s, si)}"><title>${esc(`${s} ${g.label}: ${fmt(b.value)} ${unit}`)}</title></rect>`);
        out.push(`<text x="${x + bw / 2}" y="${y - 3}" text-anchor="middle" font-size="8.5" fill="#333">${fmt(b.value)}</text>`);
      });
      out.push(`<text x="${gx + gw / 2}" y="${y0 + panelH + 15}" text-anchor="middle">${esc(g.label)}</text>`);
    });
    out.push(`<line x1="${left}" x2="${width - right}" y1="${y0 + panelH}" y2="${y0 + panelH}" stroke="#333"/>`);
  });
  out.push(`</svg>`);
  return out.join("\n");
}

// panels: [{ title, lines: [{ series, dash, points: [[x, y]] }] }], log-log
export function logLines({ title, subtitle, xUnit, yUnit, panels, series, dashes, width = 960, cols = 2 }) {
  const pw = (width - 40) / cols, ph = 240, top = 70;
  const rows = Math.ceil(panels.length / cols);
  const height = top + rows * (ph + 60) + 10;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="11">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="20" y="22" font-size="16" font-weight="600">${esc(title)}</text>`);
  if (subtitle) out.push(`<text x="20" y="40" fill="#555">${esc(subtitle)}</text>`);
  let lx = 20;
  series.forEach((s, i) => {
    out.push(`<line x1="${lx}" x2="${lx + 18}" y1="${top - 16}" y2="${top - 16}" stroke="${colorOf(s, i)}" stroke-width="2.5"/><text x="${lx + 22}" y="${top - 12}">${esc(s)}</text>`);
    lx += 30 + s.length * 6.5;
  });
  for (const [d, dash] of Object.entries(dashes ?? {})) {
    out.push(`<line x1="${lx}" x2="${lx + 18}" y1="${top - 16}" y2="${top - 16}" stroke="#333" stroke-width="1.5" stroke-dasharray="${dash}"/><text x="${lx + 22}" y="${top - 12}">${esc(d)}</text>`);
    lx += 30 + d.length * 6.5;
  }
  panels.forEach((p, i) => {
    const ox = 20 + (i % cols) * pw + 50, oy = top + Math.floor(i / cols) * (ph + 60) + 10;
    const w = pw - 70, h = ph - 20;
    const pts = p.lines.flatMap((l) => l.points).filter(([x, y]) => x > 0 && y > 0);
    if (!pts.length) return;
    const xl = Math.log10(Math.min(...pts.map((q) => q[0]))), xh = Math.log10(Math.max(...pts.map((q) => q[0])));
    const yl = Math.floor(Math.log10(Math.min(...pts.map((q) => q[1])))), yh = Math.ceil(Math.log10(Math.max(...pts.map((q) => q[1]))));
    const X = (x) => ox + ((Math.log10(x) - xl) / (xh - xl || 1)) * w;
    const Y = (y) => oy + h - ((Math.log10(y) - yl) / (yh - yl || 1)) * h;
    out.push(`<text x="${ox}" y="${oy - 4}" font-weight="600">${esc(p.title)}</text>`);
    for (let e = yl; e <= yh; e++) out.push(`<line x1="${ox}" x2="${ox + w}" y1="${Y(10 ** e)}" y2="${Y(10 ** e)}" stroke="#e9ecef"/><text x="${ox - 5}" y="${Y(10 ** e) + 4}" text-anchor="end" fill="#555">${fmt(10 ** e)}</text>`);
    const xs = [...new Set(pts.map((q) => q[0]))].sort((a, b) => a - b);
    for (const x of xs) out.push(`<text x="${X(x)}" y="${oy + h + 14}" text-anchor="middle" fill="#555" font-size="9">${x >= 1 << 20 ? `${x / (1 << 20)}M` : x >= 1024 ? `${x / 1024}K` : x}</text>`);
    out.push(`<text x="${ox + w / 2}" y="${oy + h + 28}" text-anchor="middle" fill="#555">${esc(xUnit)}</text>`);
    out.push(`<text x="${ox - 40}" y="${oy + h / 2}" transform="rotate(-90 ${ox - 40} ${oy + h / 2})" text-anchor="middle" fill="#555">${esc(yUnit)}</text>`);
    out.push(`<rect x="${ox}" y="${oy}" width="${w}" height="${h}" fill="none" stroke="#333"/>`);
    p.lines.forEach((l) => {
      const d = l.points.filter(([x, y]) => x > 0 && y > 0).map(([x, y], j) => `${j ? "L" : "M"}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${colorOf(l.series, series.indexOf(l.series))}" stroke-width="2" ${l.dash ? `stroke-dasharray="${l.dash}"` : ""}><title>${esc(`${l.series} ${l.label ?? ""}`)}</title></path>`);
    });
  });
  out.push(`</svg>`);
  return out.join("\n");
}
