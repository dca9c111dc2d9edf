# gen.awk: writes realistic TypeScript, one module "unit" per i, until about
# `bytes` bytes. Every construct the lexer must get right appears: comments,
# all string forms, nested templates, regexes next to divisions, numbers,
# generics, classes, interfaces, object literals, and task exports of each
# recognised form. Usage: awk -v bytes=N -v prefix=P -f gen.awk
function unit(i,   s) {
  s = ""
  s = s "/**\n * Module section " i ": helpers and tasks.\n * export const notATask = task({ f }) -- inside a comment\n */\n"
  s = s "export interface Record" i " {\n  id: number;\n  name: string;\n  tags?: string[];\n  meta: { created: Date; score: number };\n}\n\n"
  s = s "export type Pair" i " = [left: number, right: number];\n"
  s = s "type Mode" i " = \"fast\" | 'slow' | `custom-${string}`;\n\n"
  s = s "const PATTERN_" i " = /^[a-z_][\\w$]*(?:\\.[a-z]+)*\\/?$/giu;\n"
  s = s "const RATIO_" i " = (" i " * 1_000.5e-3) / 7 / 2;\n"
  s = s "const HEX_" i " = 0xFF_FF + 0b1010 + 0o17 + 12345678901234567890n.toString().length;\n"
  s = s "const MSG_" i " = `item ${" i "} of ${`nested ${RATIO_" i " > 1 ? \"big\" : 'small'}`} \\` done`;\n\n"
  s = s "export class Store" i "<T extends { id: number }> {\n  private items = new Map<number, T>();\n"
  s = s "  add(item: T): void { this.items.set(item.id, item); }\n"
  s = s "  find(re: RegExp = /x+/): T[] { return [...this.items.values()].filter((v) => re.test(String(v.id))); }\n}\n\n"
  s = s "function normalise" i "(r: Record" i "): Record" i " {\n"
  s = s "  const name = r.name.trim().replace(/\\s+/g, \" \").toLowerCase();\n"
  s = s "  const score = r.meta.score / (r.tags?.length ?? 1);\n"
  s = s "  if (score > 10) { return { ...r, name, meta: { ...r.meta, score: 10 } }; }\n"
  s = s "  return { ...r, name, meta: { ...r.meta, score } };\n}\n\n"
  s = s "export const add" i " = task<Pair" i ", number>({\n  f: ([a, b]) => a + b,\n});\n\n"
  s = s "export const greet" i " = task({\n  f: async (who: string): Promise<string> => `hello ${who} #" i "`,\n  timeout: 5_000,\n  abortSignal: true,\n});\n\n"
  s = s "export function square" i "(x: number): number {\n  // a line comment with 'quotes' and `ticks` and /slashes/\n  return x * x;\n}\n\n"
  s = s "export const scale" i " = async (v: Float64Array): Promise<Float64Array> => v.map((x) => x * " i ");\n\n"
  s = s "export const config" i " = { retries: 3, backoff: (n: number) => n * 2, label: \"cfg-" i "\" };\n\n"
  return s
}
BEGIN {
  total = 0
  printf "import { task } from \"knitting\";\n\n"
  for (i = 0; total < bytes; i++) {
    u = unit(prefix i)
    printf "%s", u
    total += length(u)
  }
}
