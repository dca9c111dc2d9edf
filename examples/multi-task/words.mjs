// Loaded only by the workers (importTask): returns a Map of word counts.
export function wordCount(text) {
  const counts = new Map();
  for (const word of text.split(/\s+/).filter(Boolean)) counts.set(word, (counts.get(word) ?? 0) + 1);
  return new Map([...counts].sort((a, b) => b[1] - a[1]));
}
