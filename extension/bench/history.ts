/*
 * Every Run Pipe Benchmarks result, kept in one JSON file in the extension's global storage (so it
 * survives a reload and is shared by every window), newest first. A damaged file is moved aside with a
 * warning rather than overwritten, so nothing a user had is lost.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { BenchRecord } from '../core/bench/pipes';

export class BenchHistory {
  constructor(
    private readonly file: string,
    private readonly warn: (message: string) => void = () => undefined,
  ) {}

  all(): BenchRecord[] {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    try {
      const j = JSON.parse(text) as { version: number; records: BenchRecord[] };
      if (j.version !== 1 || !Array.isArray(j.records)) throw new Error(`version ${String(j.version)}`);
      return j.records;
    } catch (e) {
      const aside = `${this.file}.damaged-${Date.now()}`;
      fs.renameSync(this.file, aside);
      this.warn(`${this.file}: not a benchmark history this version reads (${(e as Error).message}); kept as ${aside}`);
      return [];
    }
  }

  private write(records: BenchRecord[]): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ version: 1, records }));
    fs.renameSync(tmp, this.file);
  }

  add(r: BenchRecord): void {
    this.write([r, ...this.all()]);
  }

  delete(id: string): boolean {
    const all = this.all();
    const left = all.filter((r) => r.id !== id);
    if (left.length === all.length) return false;
    this.write(left);
    return true;
  }

  get(ids: string[]): BenchRecord[] {
    return this.all().filter((r) => ids.includes(r.id));
  }
}
