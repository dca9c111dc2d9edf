export const upper = (s: string): string => s.toUpperCase();
export const square = 5; // shadowed by the explicit re-export
