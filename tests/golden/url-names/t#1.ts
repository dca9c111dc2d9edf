export const len = (s: string): number => s.length;
