export default function () {}
export const helper = (n: bigint): bigint => n + 1n;
