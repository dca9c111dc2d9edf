// A helper module: imported, never re-exported.
export interface Point {
  x: number;
  y: number;
}

export function normalize(p: Point): Point {
  const n = Math.hypot(p.x, p.y) || 1;
  return { x: p.x / n, y: p.y / n };
}
