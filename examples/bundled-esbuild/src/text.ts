// Task module 2: text, with an interface for a result type.
export interface Stats {
  words: number;
  longest: string;
}

export function slugify(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}

export const stats = async (text: string): Promise<Stats> => {
  const words = text.split(/\s+/).filter(Boolean);
  return { words: words.length, longest: words.reduce((a, b) => (b.length > a.length ? b : a), "") };
};
