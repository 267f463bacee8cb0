/*
 * A saved core of the guest (QEMU's dump-guest-memory, ELF, guest-physical addresses in p_paddr) as the
 * pages of the kernel's virtual address space. The layout record is found by its first line in physical
 * memory and checked against its own address (SYMBOL(sqlos_layout) through the kernel image's mapping
 * must land where it was found); virtual addresses are then translated by walking init_mm's page tables
 * (the direct map, the kernel image and vmalloc'd stacks alike), 4 or 5 levels as the record says.
 */
import { ElfFile, PT_LOAD, Segment } from './elf';
import { LAYOUT_MAGIC, Layout, MemoryError } from './layout';
import { PAGE, PageSource, hex } from './memory';

const ADDR_MASK = 0x000ffffffffff000n;
const SCAN_CHUNK = 16 << 20;

export class CoreMemory implements PageSource {
  readonly name: string;
  private readonly loads: Segment[];
  private walk?: { pgd: bigint; levels: number };
  private tables = new Map<bigint, Buffer>();

  constructor(private readonly elf: ElfFile) {
    this.name = `core ${elf.file}`;
    if (elf.type !== 4 /* ET_CORE */) throw new MemoryError(`${elf.file}: an ELF file but not a core (type ${elf.type})`);
    this.loads = elf.segments.filter((s) => s.type === PT_LOAD && s.filesz > 0);
    if (!this.loads.length) throw new MemoryError(`${elf.file}: a core with no memory in it (no PT_LOAD segment)`);
  }

  /** Bytes at a guest-physical address, all inside one segment of the dump. */
  physical(pa: bigint, len: number): Buffer {
    const s = this.loads.find((x) => pa >= x.paddr && pa + BigInt(len) <= x.paddr + BigInt(x.filesz));
    if (!s) throw new MemoryError(`${this.name}: physical address ${hex(pa)} is not in the dump`);
    return this.elf.read(s.offset + Number(pa - s.paddr), len);
  }

  /** The layout record: the first copy of its first line in memory that is where it says it is. */
  findLayout(): Layout {
    const magic = Buffer.from(LAYOUT_MAGIC);
    let seen = 0;
    for (const s of this.loads) {
      for (let off = 0; off < s.filesz; off += SCAN_CHUNK) {
        const chunk = this.elf.read(s.offset + off, Math.min(SCAN_CHUNK + magic.length, s.filesz - off));
        for (let i = chunk.indexOf(magic); i >= 0; i = chunk.indexOf(magic, i + 1)) {
          if (i >= SCAN_CHUNK) break; // found again by the next chunk
          seen++;
          const pa = s.paddr + BigInt(off + i);
          const raw = this.physicalText(pa, 8192);
          let layout: Layout;
          try {
            layout = Layout.parse(raw, `${this.name}: layout record at physical ${hex(pa)}`);
          } catch {
            continue;
          }
          if (this.imagePhysical(layout, layout.symbol('sqlos_layout')) !== pa) continue;
          this.walk = { pgd: this.imagePhysical(layout, layout.symbol('pgd')), levels: layout.int('pgtable_levels') };
          return layout;
        }
      }
    }
    throw new MemoryError(`${this.name}: no SQLiteOS layout record in the dump${seen ? ` (${seen} copies of its first line, none where it says it is)` : ''}: not a companion kernel with the record (12-07 on), or not a dump of its memory`);
  }

  /** Up to max bytes of text from pa, as far as the dump goes. */
  private physicalText(pa: bigint, max: number): string {
    const s = this.loads.find((x) => pa >= x.paddr && pa < x.paddr + BigInt(x.filesz))!;
    const n = Math.min(max, Number(s.paddr + BigInt(s.filesz) - pa));
    return this.physical(pa, n).toString('latin1');
  }

  /** A kernel image address's physical address (__START_KERNEL_map and phys_base, as __pa_symbol does). */
  private imagePhysical(l: Layout, va: bigint): bigint {
    return va - BigInt.asUintN(64, l.number('start_kernel_map')) + l.number('phys_base');
  }

  private table(pa: bigint): Buffer {
    let t = this.tables.get(pa);
    if (!t) {
      t = this.physical(pa, 4096);
      this.tables.set(pa, t);
    }
    return t;
  }

  /** The physical address of virtual address va, by init_mm's page tables. */
  translate(va: bigint): bigint {
    if (!this.walk) throw new MemoryError(`${this.name}: the layout record was not read yet`);
    let table = this.walk.pgd;
    for (let level = this.walk.levels; level >= 1; level--) {
      const shift = 12n + 9n * BigInt(level - 1);
      const index = Number((va >> shift) & 511n);
      const e = this.table(table).readBigUInt64LE(index * 8);
      if (!(e & 1n)) throw new MemoryError(`${this.name}: virtual address ${hex(va)} is not mapped (level ${level} entry ${index} not present)`);
      if (level <= 3 && level >= 2 && e & 0x80n) {
        const size = 1n << shift; // a 1 GiB or 2 MiB page
        return (e & ADDR_MASK & ~(size - 1n)) + (va & (size - 1n));
      }
      table = e & ADDR_MASK;
    }
    return table + (va & (PAGE - 1n));
  }

  async page(va: bigint): Promise<Buffer> {
    return this.physical(this.translate(va), Number(PAGE));
  }

  close(): void {
    this.elf.close();
  }
}
