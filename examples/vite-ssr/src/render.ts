// Server-side rendering of the one page.
import type { PrimeReport } from "./tasks.ts";

const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderPage(report: PrimeReport): string {
  return `<!doctype html>
<html><head><title>primes</title></head>
<body><h1>${escape(String(report.count))} primes below ${escape(String(report.limit))}</h1>
<p>computed on worker thread ${report.thread}</p></body></html>
`;
}
