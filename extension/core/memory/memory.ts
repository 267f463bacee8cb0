/*
 * A halted kernel's memory, read by virtual address a page at a time and kept for the one snapshot
 * (the kernel does not run while it is read): a field read costs one lookup, a struct or a list a few
 * pages. Where the pages come from is a PageSource: QEMU's gdbstub (machines/gdb-remote.ts), a saved
 * core (core-file.ts), or a test's synthetic image.
 */
import { Field, MemoryError } from './layout';

export const PAGE = 4096n;

export interface PageSource {
  /** Where it reads, for errors: "gdbstub 127.0.0.1:1234", "core guest.core". */
  readonly name: string;
  /** The page at virtual address addr (page aligned); a MemoryError when it is not mapped or not there. */
  page(addr: bigint): Promise<Buffer>;
  /** A few bytes without their page, where that is cheaper (a pointer chase over the wire). */
  read?(addr: bigint, len: number): Promise<Buffer>;
}

export const hex = (a: bigint) => `0x${a.toString(16)}`;

export class KernelMemory {
  private pages = new Map<bigint, Promise<Buffer>>();

  constructor(readonly source: PageSource) {}

  /** Distinct pages read so far. */
  get pagesRead(): number {
    return this.pages.size;
  }

  private page(addr: bigint): Promise<Buffer> {
    let p = this.pages.get(addr);
    if (!p) {
      p = this.source.page(addr);
      this.pages.set(addr, p);
    }
    return p;
  }

  async read(addr: bigint, len: number): Promise<Buffer> {
    if (addr < 0n || addr + BigInt(len) > 1n << 64n) throw new MemoryError(`${this.source.name}: address ${hex(addr)} out of range`);
    const first = addr & ~(PAGE - 1n);
    const off = Number(addr - first);
    if (off + len <= Number(PAGE)) return (await this.page(first)).subarray(off, off + len);
    const out = Buffer.alloc(len);
    for (let done = 0; done < len; ) {
      const a = addr + BigInt(done);
      const base = a & ~(PAGE - 1n);
      const o = Number(a - base);
      const k = Math.min(len - done, Number(PAGE) - o);
      (await this.page(base)).copy(out, done, o, o + k);
      done += k;
    }
    return out;
  }

  /**
   * A span of a struct read on its own, not its pages, when the source can and its pages are not here
   * already: over the gdbstub a walk of 10,000 tasks then costs a packet a task, not three a page.
   */
  async span(addr: bigint, len: number): Promise<Buffer> {
    const first = addr & ~(PAGE - 1n);
    const last = (addr + BigInt(len) - 1n) & ~(PAGE - 1n);
    if (!this.source.read || (this.pages.has(first) && this.pages.has(last))) return this.read(addr, len);
    return this.source.read(addr, len);
  }

  /** An unsigned little-endian integer of 1, 2, 4 or 8 bytes. */
  async unsigned(addr: bigint, size: number): Promise<bigint> {
    return leUnsigned(await this.read(addr, size), 0, size);
  }

  async pointer(addr: bigint): Promise<bigint> {
    return this.unsigned(addr, 8);
  }

  /** A field of the struct at base: unsigned, or signed (two's complement of its size). */
  async field(base: bigint, f: Field, signed = false): Promise<bigint> {
    const v = await this.unsigned(base + BigInt(f.offset), f.size);
    return signed && v >= 1n << BigInt(f.size * 8 - 1) ? v - (1n << BigInt(f.size * 8)) : v;
  }

  /** A NUL-terminated string in a char array field. */
  async chars(base: bigint, f: Field): Promise<string> {
    return cString(await this.read(base + BigInt(f.offset), f.size));
  }
}

/** A char array's string: up to its first NUL, or all of it. */
export function cString(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString('latin1');
}

export function leUnsigned(b: Buffer, off: number, size: number): bigint {
  switch (size) {
    case 1:
      return BigInt(b.readUInt8(off));
    case 2:
      return BigInt(b.readUInt16LE(off));
    case 4:
      return BigInt(b.readUInt32LE(off));
    case 8:
      return b.readBigUInt64LE(off);
    default:
      throw new MemoryError(`a field of ${size} bytes is not an integer this reader knows`);
  }
}
