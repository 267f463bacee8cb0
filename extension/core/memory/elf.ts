/*
 * The little of ELF64 the memory readers need: a core's PT_LOAD segments (QEMU's dump-guest-memory
 * writes guest-physical addresses in p_paddr) and a vmlinux's symbol table (where gdb finds the layout
 * record). Read through a file descriptor, never the whole file: a core is as big as the guest's memory.
 */
import * as fs from 'fs';
import { MemoryError } from './layout';

export interface Segment {
  type: number;
  offset: number;
  vaddr: bigint;
  paddr: bigint;
  filesz: number;
  memsz: number;
}

export const PT_LOAD = 1;

export class ElfFile {
  readonly segments: Segment[] = [];
  private readonly fd: number;
  readonly type: number;

  constructor(readonly file: string) {
    try {
      this.fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new MemoryError(`${file}: ${(e as Error).message}`);
    }
    const h = this.read(0, 64);
    if (h.length < 64 || h.readUInt32BE(0) !== 0x7f454c46) {
      this.close();
      throw new MemoryError(`${file}: not an ELF file${h.subarray(0, 8).toString('latin1').startsWith('KDUMP') ? ' (a kdump-compressed dump: write the core in ELF format)' : ''}`);
    }
    if (h[4] !== 2 || h[5] !== 1) {
      this.close();
      throw new MemoryError(`${file}: not a 64-bit little-endian ELF file`);
    }
    this.type = h.readUInt16LE(16);
    const phoff = Number(h.readBigUInt64LE(32));
    const phentsize = h.readUInt16LE(54);
    const phnum = h.readUInt16LE(56);
    for (let i = 0; i < phnum; i++) {
      const p = this.read(phoff + i * phentsize, 56);
      this.segments.push({
        type: p.readUInt32LE(0),
        offset: Number(p.readBigUInt64LE(8)),
        vaddr: p.readBigUInt64LE(16),
        paddr: p.readBigUInt64LE(24),
        filesz: Number(p.readBigUInt64LE(32)),
        memsz: Number(p.readBigUInt64LE(40)),
      });
    }
  }

  read(offset: number, len: number): Buffer {
    const b = Buffer.alloc(len);
    const n = fs.readSync(this.fd, b, 0, len, offset);
    return n === len ? b : b.subarray(0, n);
  }

  /** The value of a symbol in .symtab; undefined when there is none of that name (or no .symtab). */
  symbol(name: string): bigint | undefined {
    const h = this.read(0, 64);
    const shoff = Number(h.readBigUInt64LE(40));
    const shentsize = h.readUInt16LE(58);
    const shnum = h.readUInt16LE(60);
    const sections = Array.from({ length: shnum }, (_, i) => {
      const s = this.read(shoff + i * shentsize, 64);
      return { type: s.readUInt32LE(4), offset: Number(s.readBigUInt64LE(24)), size: Number(s.readBigUInt64LE(32)), link: s.readUInt32LE(40), entsize: Number(s.readBigUInt64LE(56)) };
    });
    const symtab = sections.find((s) => s.type === 2 /* SHT_SYMTAB */);
    if (!symtab) return undefined;
    const strtab = sections[symtab.link];
    const strings = this.read(strtab.offset, strtab.size);
    const want = Buffer.from(`${name}\0`);
    const syms = this.read(symtab.offset, symtab.size);
    for (let off = 0; off + 24 <= syms.length; off += symtab.entsize || 24) {
      const at = syms.readUInt32LE(off);
      if (strings.compare(want, 0, want.length, at, at + want.length) === 0) return syms.readBigUInt64LE(off + 8);
    }
    return undefined;
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* closed already */
    }
  }
}
