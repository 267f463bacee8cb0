/*
 * The companion kernel's layout record (kernel-scripts/sqliteos/layout.c): the addresses, field offsets
 * and sizes and the numbers a reader of the kernel's memory goes by, as VMCOREINFO-style text lines after
 * "SQLITEOS_LAYOUT 1" and up to "END". A record without its END, or without a key asked for, is an error
 * naming the key: a reader never guesses an offset.
 */
export const LAYOUT_MAGIC = 'SQLITEOS_LAYOUT 1\n';
export const LAYOUT_VERSION = 1;

export class MemoryError extends Error {}

export interface Field {
  offset: number;
  size: number;
}

export class Layout {
  private constructor(
    private readonly symbols: Map<string, bigint>,
    private readonly numbers: Map<string, bigint>,
    private readonly offsets: Map<string, number>,
    private readonly sizes: Map<string, number>,
    /** Where the record was found, for errors. */
    readonly where: string,
  ) {}

  /** Parses the record's text (from its first line; anything after END is ignored). */
  static parse(text: string, where: string): Layout {
    const first = text.slice(0, text.indexOf('\n') + 1);
    const m = /^SQLITEOS_LAYOUT (\d+)\n$/.exec(first);
    if (!m) throw new MemoryError(`${where}: not a SQLiteOS layout record (first line ${JSON.stringify(first.slice(0, 40))})`);
    if (Number(m[1]) !== LAYOUT_VERSION) {
      throw new MemoryError(`${where}: layout record version ${m[1]}; this version of the companion reads version ${LAYOUT_VERSION}`);
    }
    const symbols = new Map<string, bigint>();
    const numbers = new Map<string, bigint>();
    const offsets = new Map<string, number>();
    const sizes = new Map<string, number>();
    const lines = text.split('\n');
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      if (line === 'END') return new Layout(symbols, numbers, offsets, sizes, where);
      if (line === '' && i === lines.length - 1) break;
      const e = /^(SYMBOL|NUMBER|OFFSET|SIZE)\(([^)]+)\)=(-?[0-9a-f]+)$/.exec(line);
      if (!e) throw new MemoryError(`${where}: line ${i + 1} of the layout record is not KIND(name)=value: ${JSON.stringify(line.slice(0, 60))}`);
      const [, kind, name, v] = e;
      if (kind === 'SYMBOL') symbols.set(name, BigInt(`0x${v}`));
      else if (kind === 'NUMBER') numbers.set(name, BigInt(v));
      else if (kind === 'OFFSET') offsets.set(name, Number(v));
      else sizes.set(name, Number(v));
    }
    throw new MemoryError(`${where}: the layout record has no END line (cut short?)`);
  }

  symbol(name: string): bigint {
    const v = this.symbols.get(name);
    if (v === undefined) throw new MemoryError(`${this.where}: the layout record has no SYMBOL(${name})`);
    return v;
  }

  number(name: string): bigint {
    const v = this.numbers.get(name);
    if (v === undefined) throw new MemoryError(`${this.where}: the layout record has no NUMBER(${name})`);
    return v;
  }

  /** A number that fits a JavaScript number (counts, sizes, enum values). */
  int(name: string): number {
    return Number(this.number(name));
  }

  /** A field of a struct, "mem_store.num_readers". */
  field(name: string): Field {
    const offset = this.offsets.get(name);
    const size = this.sizes.get(name);
    if (offset === undefined || size === undefined) throw new MemoryError(`${this.where}: the layout record has no OFFSET and SIZE of ${name}`);
    return { offset, size };
  }

  /** The size of a struct, "mem_store". */
  size(name: string): number {
    const v = this.sizes.get(name);
    if (v === undefined) throw new MemoryError(`${this.where}: the layout record has no SIZE(${name})`);
    return v;
  }

  /** The counters' names in index order (NUMBER(counter.NAME)=INDEX). */
  counterNames(): string[] {
    const out: string[] = [];
    for (const [k, v] of this.numbers) if (k.startsWith('counter.')) out[Number(v)] = k.slice(8);
    return out;
  }
}
