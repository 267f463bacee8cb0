/*
 * A gzipped ustar archive of a few files, written in memory: how kernel-scripts reaches a machine that
 * builds (one upload, unpacked there with `tar xzf`), with no tar program needed on this side (Windows).
 */
import { gzipSync } from 'zlib';

export interface TarEntry {
  /** Relative, with forward slashes. */
  name: string;
  data: Buffer;
  mode: number;
}

function field(buf: Buffer, offset: number, length: number, value: string): void {
  buf.write(value, offset, Math.min(length, Buffer.byteLength(value)), 'utf8');
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`;
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(512);
  let name = e.name;
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    // ustar splits a long name at a slash: a prefix of up to 155 bytes and a name of up to 100.
    const at = [...name.matchAll(/\//g)].map((m) => m.index).find((i) => Buffer.byteLength(name.slice(i + 1)) <= 100 && Buffer.byteLength(name.slice(0, i)) <= 155);
    if (at === undefined) throw new Error(`tar: the path ${e.name} is too long for ustar`);
    prefix = name.slice(0, at);
    name = name.slice(at + 1);
  }
  field(h, 0, 100, name);
  field(h, 100, 8, octal(e.mode & 0o7777, 8));
  field(h, 108, 8, octal(0, 8));
  field(h, 116, 8, octal(0, 8));
  field(h, 124, 12, octal(e.data.length, 12));
  field(h, 136, 12, octal(0, 12));
  h.fill(' ', 148, 156);
  h[156] = '0'.charCodeAt(0);
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  field(h, 345, 155, prefix);
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

/** The archive, gzipped; entries in the order given (so equal inputs give equal bytes). */
export function tarGz(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e), e.data);
    const pad = (512 - (e.data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(parts), { level: 6 });
}
