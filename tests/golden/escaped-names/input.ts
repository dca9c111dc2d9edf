// Export names are decoded: a worker imports the real name.
const a = (x: number): number => x;
export { a as "q\"uote", a as "uni\u0041", a as "\u{1F600}smile" };
export const \u0062cd = (x: number): number => x;
export function \u{63}de(x: number): number { return x }
export { \u0062cd as plain };
