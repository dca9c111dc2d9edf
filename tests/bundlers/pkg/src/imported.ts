export const twice = (x: number): number => x * 2;
