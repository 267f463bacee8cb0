/*
 * What the benchmark report's page and the extension say to each other, declared once for both sides
 * (the page is bundled from extension/webview/, the host side is extension/bench/report-panel.ts).
 */
import type { BenchRecord, PAPER_TABLE_1 } from './pipes';

/** A stored run as the page needs it: everything but the programs' raw lines. */
export type RecordView = Omit<BenchRecord, 'raw'> & { rawLines: number };

export type ToPage = { type: 'state'; records: RecordView[]; selected: string[]; paper: typeof PAPER_TABLE_1 };

export type FromPage =
  | { type: 'ready' }
  | { type: 'select'; ids: string[] }
  | { type: 'delete'; id: string }
  | { type: 'export'; format: 'csv' | 'json'; ids: string[] }
  | { type: 'run' };
