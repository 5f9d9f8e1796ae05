/** Reading the specification documents from tests: the text, and the rows of a Markdown table. */
import { readFileSync } from 'node:fs';

/** The proxkey specification documents (PROTOCOL.md's Conventions name them). */
export const SPEC_DOCS = ['PROTOCOL.md', 'BLE.md', 'PRIVACY.md', 'CONFORMANCE.md', 'MCU.md'] as const;

export function specDoc(name: (typeof SPEC_DOCS)[number]): string {
  return readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');
}

/** The text of one section: from the heading line that starts with `heading` to the next heading of the same or a higher level. */
export function section(doc: string, heading: string): string {
  const start = doc.split('\n').findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`no section "${heading}"`);
  const lines = doc.split('\n');
  const level = /^#+/.exec(lines[start]!)![0].length;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && /^#+/.exec(l)![0].length <= level);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** The cells of every row of the first table whose header row starts with `| firstHeader |` (header and separator excluded). */
export function tableRows(text: string, firstHeader: string): string[][] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.startsWith(`| ${firstHeader} |`));
  if (at < 0) throw new Error(`no table with first column "${firstHeader}"`);
  const rows: string[][] = [];
  for (const line of lines.slice(at + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(
      line
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
  }
  return rows;
}

/** `a..b` → [a, b] (decimal or 0x hex). */
export function range(text: string): [number, number] {
  const m = /^(0x[0-9A-Fa-f]+|\d+)\.\.(0x[0-9A-Fa-f]+|\d+)$/.exec(text.trim());
  if (!m) throw new Error(`not a range: ${text}`);
  return [Number(m[1]), Number(m[2])];
}

export function hexBytes(text: string): Uint8Array {
  return Uint8Array.from(text.trim().split(/\s+/), (b) => parseInt(b, 16));
}
