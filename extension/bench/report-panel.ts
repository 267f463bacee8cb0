/*
 * The benchmark report: one webview panel (after vscode-extension-samples' webview-sample). Its page is
 * dist/media/bench-report.js with Chart.js beside it (installed from npm and shipped in the package, no
 * CDN), loaded under a CSP with a nonce from dist/media only. The page draws what the history holds;
 * selection, delete and export come back as messages (report-messages.ts).
 */
import { randomBytes } from 'crypto';
import * as vscode from 'vscode';
import { PAPER_TABLE_1 } from '../core/bench/pipes';
import type { FromPage, RecordView, ToPage } from '../core/bench/report-messages';
import type { BenchHistory } from './history';

export interface ReportActions {
  exportRecords(format: 'csv' | 'json', ids: string[]): Thenable<unknown>;
  run(): Thenable<unknown>;
}

export class BenchReportPanel {
  static current: BenchReportPanel | undefined;
  private selected: string[] = [];
  private readonly disposables: vscode.Disposable[] = [];

  static show(extensionUri: vscode.Uri, history: BenchHistory, actions: ReportActions, select?: string[]): BenchReportPanel {
    const p = BenchReportPanel.current ?? new BenchReportPanel(extensionUri, history, actions);
    if (select) p.selected = select;
    p.panel.reveal(vscode.ViewColumn.Active);
    p.post();
    return p;
  }

  private constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly history: BenchHistory,
    private readonly actions: ReportActions,
  ) {
    this.panel = vscode.window.createWebviewPanel('sqliteos.benchReport', 'SQLiteOS Pipe Benchmarks', vscode.ViewColumn.Active, {
      enableScripts: true,
      retainContextWhenHidden: false,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'media')],
    });
    this.panel.webview.html = this.html();
    this.panel.onDidDispose(() => this.dispose(), undefined, this.disposables);
    this.panel.webview.onDidReceiveMessage((m: FromPage) => this.receive(m), undefined, this.disposables);
    BenchReportPanel.current = this;
  }

  readonly panel: vscode.WebviewPanel;

  private post(): void {
    const all = this.history.all();
    const ids = new Set(all.map((r) => r.id));
    this.selected = this.selected.filter((id) => ids.has(id));
    if (this.selected.length === 0) this.selected = all.slice(0, 1).map((r) => r.id);
    const records: RecordView[] = all.map(({ raw, ...r }) => ({ ...r, rawLines: raw.length }));
    const msg: ToPage = { type: 'state', records, selected: this.selected, paper: PAPER_TABLE_1 };
    void this.panel.webview.postMessage(msg);
  }

  private receive(m: FromPage): void {
    if (m.type === 'ready') this.post();
    else if (m.type === 'select') {
      this.selected = m.ids;
      this.post();
    } else if (m.type === 'delete') {
      void vscode.window.showWarningMessage('Delete this benchmark run from the history?', { modal: true }, 'Delete').then((a) => {
        if (a !== 'Delete') return;
        this.history.delete(m.id);
        this.post();
      });
    } else if (m.type === 'export') void this.actions.exportRecords(m.format, m.ids);
    else if (m.type === 'run') void this.actions.run();
  }

  private html(): string {
    const nonce = randomBytes(16).toString('base64');
    const media = (f: string) => this.panel.webview.asWebviewUri(vscode.Uri.joinPath(this.extensionUri, 'dist', 'media', f)).toString();
    const csp = `default-src 'none'; img-src ${this.panel.webview.cspSource} data:; style-src ${this.panel.webview.cspSource} 'nonce-${nonce}'; script-src 'nonce-${nonce}';`;
    return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${media('bench-report.css')}">
<title>SQLiteOS Pipe Benchmarks</title>
</head>
<body>
<header>
  <h1>Pipe benchmarks</h1>
  <div class="actions">
    <button id="run">Run Pipe Benchmarks…</button>
    <button id="csv" class="secondary">Export CSV</button>
    <button id="json" class="secondary">Export JSON</button>
  </div>
</header>
<section id="empty" hidden><p>No benchmark runs yet. <strong>Run Pipe Benchmarks</strong> on the simulator, the QEMU guest or an SSH target; every run is kept here.</p></section>
<section id="runs"></section>
<section id="charts">
  <figure><figcaption>Bandwidth, SQL pipe / stock pipe — yours beside the paper's Table 1 (higher is closer to stock)</figcaption><div class="chart"><canvas id="ratio" role="img" aria-label="Bandwidth ratio SQL pipe over stock pipe"></canvas></div></figure>
  <figure><figcaption>Bandwidth (MB/s): stock pipe and SQL pipe</figcaption><div class="chart"><canvas id="bw" role="img" aria-label="Bandwidth in MB per second"></canvas></div></figure>
  <figure><figcaption>Latency (µs per round trip): stock pipe and SQL pipe (lower is better)</figcaption><div class="chart"><canvas id="lat" role="img" aria-label="Latency in microseconds"></canvas></div></figure>
</section>
<section id="table"></section>
<script nonce="${nonce}" src="${media('chart.umd.min.js')}"></script>
<script nonce="${nonce}" src="${media('bench-report.js')}"></script>
</body>
</html>`;
  }

  dispose(): void {
    BenchReportPanel.current = undefined;
    for (const d of this.disposables) d.dispose();
    this.panel.dispose();
  }
}
