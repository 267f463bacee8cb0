/*
 * Run Pipe Benchmarks on the simulator: the same two measurements as bw_sqlpipe / lat_sqlpipe, made on
 * the simulated companion kernel (sql.js): chunks of the chosen sizes from a writer to a reader, 4 MiB a
 * run (at least 4 chunks), and 1-byte round trips between two processes. The stock pipe it is compared
 * with is this machine's, measured by our program in the same run (pipe-bench.ts).
 */
import { createKernel } from '../sim/create';
import type { Series } from './pipes';
import { mbPerSec } from './stats';

const TOTAL = 4 * 1024 * 1024;
const ROUND_TRIPS = 1000;

async function bandwidth(chunk: number, runs: number): Promise<number[]> {
  const k = await createKernel({ profile: 'companion', locks: 'sqliteos', capacity: 2 * chunk });
  try {
    k.boot(1);
    const [r, w] = k.run(1, { op: 'pipe' }).result as number[];
    k.run(1, { op: 'fork', child: 2 });
    const bytes = new Uint8Array(chunk).map((_, i) => i & 0xff);
    const n = Math.max(4, Math.floor(TOTAL / chunk));
    const one = () => {
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        k.run(2, { op: 'write', fd: w, bytes });
        if (k.run(1, { op: 'read', fd: r, n: chunk }).result !== chunk) throw new Error('short read in the simulator benchmark');
      }
      return mbPerSec(n * chunk, performance.now() - t0);
    };
    one(); // warm-up, not counted
    return Array.from({ length: runs }, one);
  } finally {
    k.close();
  }
}

async function latency(runs: number): Promise<number[]> {
  const k = await createKernel({ profile: 'companion', locks: 'sqliteos' });
  try {
    k.boot(1);
    const [ar, aw] = k.run(1, { op: 'pipe' }).result as number[];
    const [br, bw] = k.run(1, { op: 'pipe' }).result as number[];
    k.run(1, { op: 'fork', child: 2 });
    const x = new Uint8Array([120]);
    const one = () => {
      const t0 = performance.now();
      for (let i = 0; i < ROUND_TRIPS; i++) {
        k.run(1, { op: 'write', fd: aw, bytes: x });
        k.run(2, { op: 'read', fd: ar, n: 1 });
        k.run(2, { op: 'write', fd: bw, bytes: x });
        k.run(1, { op: 'read', fd: br, n: 1 });
      }
      return ((performance.now() - t0) / ROUND_TRIPS) * 1000;
    };
    one();
    return Array.from({ length: runs }, one);
  } finally {
    k.close();
  }
}

/** The simulator's SQL pipe: bandwidth for each chunk size, then latency. */
export async function simulatorPipeSeries(chunks: number[], runs: number, onStep: (label: string) => void = () => undefined): Promise<Series[]> {
  const out: Series[] = [];
  for (const chunk of chunks) {
    onStep(`simulator bandwidth, ${chunk / 1024} KiB`);
    out.push({ program: 'simulator', bench: 'bw', pipe: 'sql', config: 'plain', chunk, unit: 'MB/s', values: await bandwidth(chunk, runs) });
  }
  onStep('simulator latency');
  out.push({ program: 'simulator', bench: 'lat', pipe: 'sql', config: 'plain', chunk: 1, unit: 'us', values: await latency(runs) });
  return out;
}
