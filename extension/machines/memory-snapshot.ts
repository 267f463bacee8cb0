/*
 * A Snapshot of a companion kernel read from its memory rather than asked of it: from QEMU's gdbstub
 * (the guest halted for the read, then let run on unless told to stay) or from a saved core. Both go
 * through core/memory's reader and then the same parser as the SSH path, so the views, the CLI and the
 * JSON cannot tell the sources apart except by the warnings a halted kernel earns.
 */
import type { Snapshot } from '../core/model/model';
import { parseInspectJson } from '../core/model/inspect-reader';
import { stringifyExact } from '../core/format';
import { loadSqlJs } from '../core/sim/db';
import { ElfFile } from '../core/memory/elf';
import { CoreMemory } from '../core/memory/core-file';
import { KernelReader } from '../core/memory/kernel-state';
import { Layout, MemoryError } from '../core/memory/layout';
import { KernelMemory, PageSource } from '../core/memory/memory';
import { GdbRemote } from './gdb-remote';

export interface MemorySnapshot {
  snapshot: Snapshot;
  /** "gdbstub unix:/…" or "core FILE". */
  source: string;
  release: string;
  /** Distinct 4 KiB pages read, and the time it took (ms). */
  pages: number;
  ms: number;
}

/** SQLiteOS in a halted kernel's memory as the Snapshot the SSH path gives (plus warnings), and the memory read. */
export async function snapshotFrom(source: PageSource, layout: Layout): Promise<{ snapshot: Snapshot; mem: KernelMemory }> {
  const mem = new KernelMemory(source);
  const { json, warnings } = await new KernelReader(mem, layout).read(await loadSqlJs());
  const snapshot = parseInspectJson(stringifyExact(json), source.name);
  if (warnings.length) snapshot.warnings = warnings;
  return { snapshot, mem };
}

async function readFrom(source: PageSource, layout: Layout, t0: number): Promise<MemorySnapshot> {
  const { snapshot, mem } = await snapshotFrom(source, layout);
  const release = (await mem.chars(layout.symbol('uts_release'), { offset: 0, size: layout.int('uts_release.size') })) || 'unknown';
  return { snapshot, source: source.name, release, pages: mem.pagesRead, ms: performance.now() - t0 };
}

/** The layout record at its symbol's address (sqlos_layout), read from a source that reads by address. */
export async function layoutAt(source: Required<Pick<PageSource, 'name' | 'read'>>, addr: bigint): Promise<Layout> {
  const raw = (await source.read(addr, 8192)).toString('latin1');
  const end = raw.indexOf('\0');
  return Layout.parse(end < 0 ? raw : raw.slice(0, end), `${source.name}: the layout record at sqlos_layout`);
}

/** Halts the guest on its gdbstub, reads, and lets it run on (unless stay). */
export async function inspectGdb(endpoint: string, vmlinux: string, stay = false): Promise<MemorySnapshot> {
  const elf = new ElfFile(vmlinux);
  let at: bigint | undefined;
  try {
    at = elf.symbol('sqlos_layout');
  } finally {
    elf.close();
  }
  if (at === undefined) throw new MemoryError(`${vmlinux}: no symbol sqlos_layout (not a companion kernel of 12-07 or later, or a stripped vmlinux)`);
  const t0 = performance.now();
  const g = await GdbRemote.connect(endpoint);
  try {
    await g.halt();
    return await readFrom(g, await layoutAt(g, at), t0);
  } finally {
    await g.close(!stay);
  }
}

/** Reads a saved core (ELF, as `sqliteos guest dump` writes it). */
export async function inspectCore(file: string): Promise<MemorySnapshot> {
  const t0 = performance.now();
  const core = new CoreMemory(new ElfFile(file));
  try {
    return await readFrom(core, core.findLayout(), t0);
  } finally {
    core.close();
  }
}
