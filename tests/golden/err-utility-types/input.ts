// Types the codec cannot carry, each with its own reason.
export const half = (x: Float16Array): number => x.length;
export const blob = (b: Blob): number => b.size;
export const file = (o: { f: File }): string => o.f.name;
