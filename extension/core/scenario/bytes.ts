/* How bytes are shown to a person: as a quoted string when printable, else as a hex literal. */
import { createHash } from 'crypto';

function printable(b: Uint8Array): boolean {
  for (const c of b) if ((c < 32 || c > 126) && c !== 10 && c !== 9 && c !== 13) return false;
  return true;
}

/** Bytes in the scenario language's own literal syntax, cut after `max` bytes with the total noted. */
export function showBytes(b: Uint8Array, max = 48): string {
  const cut = b.length > max ? b.subarray(0, max) : b;
  const more = b.length > max ? `…(${b.length} bytes)` : '';
  if (printable(cut)) {
    const s = Buffer.from(cut).toString('latin1').replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t').replace(/\r/g, '\\r');
    return `"${s}"${more}`;
  }
  return `x"${Buffer.from(cut).toString('hex')}"${more}`;
}

/**
 * A blob as JSON: its length, and its text when printable or its hex otherwise (first 64 bytes); past
 * 64 bytes, truncated and the digest of every byte, so two blobs that differ anywhere compare unequal.
 */
export function blobJson(b: Uint8Array): { blob: number; text?: string; hex?: string; truncated?: true; digest?: string } {
  const cut = b.length > 64 ? b.subarray(0, 64) : b;
  const out: { blob: number; text?: string; hex?: string; truncated?: true; digest?: string } = { blob: b.length };
  if (printable(cut)) out.text = Buffer.from(cut).toString('latin1');
  else out.hex = Buffer.from(cut).toString('hex');
  if (b.length > 64) {
    out.truncated = true;
    out.digest = bytesDigest(b);
  }
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The digest a long read's bytes are compared by (its first bytes are in `data`). */
export function bytesDigest(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex').slice(0, 16);
}
