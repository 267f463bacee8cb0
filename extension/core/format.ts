/*
 * How table values look to a person, and how tables export: short previews for tree items, a hex dump
 * for blob documents, CSV and JSON for files. Pure, so the views' text is tested without VS Code.
 */
import type { Value } from './model/model';

type SqlValue = Value;

/** A blob's bytes as far as they are known, and its full length (a kernel sends only the first 32). */
export function blobOf(v: Value): { bytes: Uint8Array; length: number } | null {
  if (v instanceof Uint8Array) return { bytes: v, length: v.length };
  if (v !== null && typeof v === 'object') return { bytes: Uint8Array.from(Buffer.from(v.hex, 'hex')), length: v.blob };
  return null;
}

function printableByte(c: number): boolean {
  return c >= 32 && c < 127;
}

/** A one-line preview: NULL, numbers as they are, text quoted, blobs as length + hex + text. */
export function preview(v: SqlValue, max = 16): string {
  if (v === null) return 'NULL';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 64 ? `${v.slice(0, 64)}…` : v);
  const b = blobOf(v)!;
  const head = b.bytes.subarray(0, max);
  const hex = Buffer.from(head).toString('hex').replace(/(..)/g, '$1 ').trim();
  const text = [...head].map((c) => (printableByte(c) ? String.fromCharCode(c) : '.')).join('');
  return `blob ${b.length} B: ${hex}${b.length > head.length ? ' …' : ''}  |${text}|`;
}

/**
 * A value under its column: the published kernel stores raw kernel addresses of wait queues in read_wq /
 * write_wq, which print as negative decimals; they are shown as the kernel prints pointers (hex).
 */
export function previewIn(column: string, v: SqlValue, max = 16): string {
  if ((column === 'read_wq' || column === 'write_wq') && (typeof v === 'number' || typeof v === 'bigint') && v < 0) {
    return `0x${BigInt.asUintN(64, BigInt(v)).toString(16)} (kernel address)`;
  }
  return preview(v, max);
}

/** The classic 16-bytes-a-line dump: offset, hex, text. */
export function hexDump(b: Uint8Array, limit = 1 << 20): string {
  const lines: string[] = [];
  const n = Math.min(b.length, limit);
  for (let off = 0; off < n; off += 16) {
    const row = b.subarray(off, Math.min(off + 16, n));
    const hex = [...row].map((c) => c.toString(16).padStart(2, '0')).join(' ');
    const text = [...row].map((c) => (printableByte(c) ? String.fromCharCode(c) : '.')).join('');
    lines.push(`${off.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${text}|`);
  }
  if (b.length > n) lines.push(`… ${b.length - n} more bytes`);
  return lines.join('\n');
}

/** A row as a document: one `column = value` line each (the key is in the title), blobs dumped in full below. */
export function rowDocument(table: string, columns: string[], row: SqlValue[]): string {
  const out = [`${table} row ${String(row[0])}`, ''];
  const blobs: string[] = [];
  columns.forEach((c, i) => {
    if (i === 0) return;
    const v = row[i];
    out.push(`${c.padEnd(12)} = ${previewIn(c, v, 32)}`);
    const b = blobOf(v);
    if (b) {
      const part = b.bytes.length < b.length ? `, the first ${b.bytes.length} shown: the kernel sends no more` : '';
      blobs.push('', `${c} (${b.length} bytes${part}):`, hexDump(b.bytes), '', 'as text:', Buffer.from(b.bytes).toString('latin1'));
    }
  });
  return [...out, ...blobs].join('\n') + '\n';
}

function csvCell(v: SqlValue): string {
  if (v === null) return '';
  const b = blobOf(v);
  // A kernel blob known only by its first bytes is marked so, never passed off as the whole value.
  const hex = b && Buffer.from(b.bytes).toString('hex');
  const s = b ? (b.bytes.length < b.length ? `x'${hex}'... (${b.length} bytes)` : `x'${hex}'`) : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV with a header; blobs as SQLite hex literals, NULL as an empty cell. */
export function toCsv(columns: string[], rows: SqlValue[][]): string {
  return [columns.map((c) => csvCell(c)).join(','), ...rows.map((r) => r.map(csvCell).join(','))].join('\r\n') + '\r\n';
}

/** JSON.stringify that writes bigints as the exact integers they are (JSON has no size limit; JS does). */
export function stringifyExact(v: unknown, indent?: number): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `\u0000big:${x}` : x), indent).replace(/"\\u0000big:(-?\d+)"/g, '$1');
}

/** A JSON array of objects; blobs as { "hex": ... } so nothing is lost. */
export function toJson(columns: string[], rows: SqlValue[][]): string {
  const cell = (v: SqlValue) => {
    const b = blobOf(v);
    if (!b) return v;
    return b.bytes.length < b.length ? { hex: Buffer.from(b.bytes).toString('hex'), length: b.length } : { hex: Buffer.from(b.bytes).toString('hex') };
  };
  const objs = rows.map((r) => Object.fromEntries(columns.map((c, i) => [c, cell(r[i])])));
  return stringifyExact(objs, 2) + '\n';
}

/** A value whole, for query results: text as it is (no quotes, no cut), everything else as previewed. */
function cellText(column: string, v: SqlValue): string {
  return typeof v === 'string' ? v : previewIn(column, v, 16);
}

/**
 * Query results as an aligned text table, every value whole. When a value spans lines (a schema's
 * CREATE TABLE text), each row is printed as a block of `column = value` lines instead, as psql's
 * expanded mode does, so the text stays readable.
 */
export function textTable(columns: string[], rows: SqlValue[][]): string {
  const cells = rows.map((r) => r.map((v, i) => cellText(columns[i] ?? '', v)));
  if (cells.some((r) => r.some((c) => c.includes('\n')))) {
    const w = Math.max(...columns.map((c) => c.length));
    const blocks = cells.map((r, n) => [`-[ row ${n + 1} ]`, ...r.map((c, i) => `${columns[i].padEnd(w)} = ${c.replace(/\n/g, `\n${' '.repeat(w + 3)}`)}`)].join('\n'));
    return [...blocks, '', `${rows.length} row(s)`].join('\n') + '\n';
  }
  const w = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i].length)));
  const line = (xs: string[]) => xs.map((x, i) => x.padEnd(w[i])).join(' | ').trimEnd();
  return [line(columns), w.map((n) => '-'.repeat(n)).join('-+-'), ...cells.map(line), '', `${rows.length} row(s)`].join('\n') + '\n';
}
