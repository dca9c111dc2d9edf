import { task } from "knitting";

type Point = { x: number; y: number };

// whitespace is normalised, comments dropped, text otherwise as written
export const move = task<
  {
    from: Point
    by:   [ dx: number,dy: number ]
  },
  Point /* moved */
>({ f: ({ from, by }) => ({ x: from.x + by[0], y: from.y + by[1] }) });

export function kinds(x: Map< string , Array<number | null> >): Record<string, Date> { return {} }
export function lit(mode: "fast" | 'slow' | 1 | true): `${string}!` { return "x!" }
export function bins(b: Float64Array): Uint8Array { return new Uint8Array() }
