// `/` after a postfix `!` divides; after the `)` of an if/while/for head,
// after `default`, a regex starts; `of` outside `for (` is an identifier.
declare const sizes: Map<string, number>;
declare const x: number | undefined, s: string, of: number;
const half = sizes.get("a")! / 2;
const ratio = half / 4;
export function afterBang(a: number): number { return a }
const h = x! / 2; export function sameLine(a: number): number { return a } const r = h / 4;
if (s) /'/.test(s);
while (!s) /`/.test(s);
for (const c of s) /"/.test(c);
const r15 = of / 2; const q = "/";
export function afterOf(a: number): number { return a }
export default /"/;
export function last(a: string): string { return a }
