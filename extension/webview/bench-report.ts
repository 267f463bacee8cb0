/*
 * The benchmark report's page (bundled for the browser into dist/media/bench-report.js). Draws the
 * selected runs with Chart.js in the theme's own colours (redrawn when the theme changes): the bandwidth
 * ratio beside the paper's Table 1, bandwidth and latency of stock and SQL pipes, and every number in a
 * table under them. Runs under emulation are labelled: only their ratios mean anything.
 */
import type { Chart as ChartType, ChartConfiguration, Plugin } from 'chart.js';
import type { FromPage, RecordView, ToPage } from '../core/bench/report-messages';
import { Series, versusStock } from '../core/bench/pipes';

declare const Chart: typeof ChartType;
declare function acquireVsCodeApi(): { postMessage(m: FromPage): void };

const vscode = acquireVsCodeApi();
let state: ToPage | undefined;
const charts = new Map<string, ChartType>();

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function theme() {
  const cs = getComputedStyle(document.body);
  const v = (name: string, fallback: string) => cs.getPropertyValue(name).trim() || fallback;
  return {
    fg: v('--vscode-foreground', '#333'),
    grid: v('--vscode-contrastBorder', v('--vscode-editorWidget-border', 'rgba(128,128,128,0.35)')),
    stock: v('--vscode-charts-blue', '#3794ff'),
    sql: v('--vscode-charts-orange', '#d18616'),
    lmbench: v('--vscode-charts-green', '#89d185'),
    paper: v('--vscode-charts-purple', '#b180d7'),
    font: v('--vscode-font-family', 'sans-serif'),
  };
}

const chunkLabel = (c: number) => (c >= 1 << 20 ? `${c / (1 << 20)} MiB` : c >= 1024 ? `${c / 1024} KiB` : `${c} B`);
const runLabel = (r: RecordView) => `${r.host} ${r.release}${r.emulated ? ' (TCG)' : ''}`;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, cls?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

/** Pairs of SQL and stock medians per (program, bench, config, chunk). */
function pairs(r: RecordView, bench: 'bw' | 'lat') {
  const out: { label: string; config: string; chunk: number; sql?: number; stock?: number; lmbench?: number }[] = [];
  const find = (p: Series['program'], pipe: Series['pipe'], config: string, chunk: number) => r.series.find((s) => s.program === p && s.pipe === pipe && s.bench === bench && s.config === config && s.chunk === chunk);
  for (const s of r.series.filter((x) => x.bench === bench && x.pipe === 'sql')) {
    const stock = find(s.program === 'simulator' ? 'ours' : s.program, 'stock', s.config, s.chunk);
    const lm = find('lmbench', 'stock', 'plain', s.chunk);
    out.push({
      label: `${runLabel(r)} · ${s.program === 'simulator' ? 'simulator, ' : ''}${bench === 'bw' ? chunkLabel(s.chunk) : '1 B'}${s.config === 'plain' ? '' : ` · ${s.config}`}`,
      config: s.config,
      chunk: s.chunk,
      sql: median(s.values),
      stock: stock && median(stock.values),
      lmbench: s.config === 'plain' && lm ? median(lm.values) : undefined,
    });
  }
  return out;
}

/** Each bar's value written above it (the ratio chart: a bar's height alone is hard to read off). */
function valueLabels(color: string, format: (v: number) => string): Plugin<'bar'> {
  return {
    id: 'valueLabels',
    afterDatasetsDraw(chart) {
      const ctx = chart.ctx;
      ctx.save();
      ctx.fillStyle = color;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'bottom';
      chart.data.datasets.forEach((ds, i) =>
        chart.getDatasetMeta(i).data.forEach((bar, j) => {
          const v = ds.data[j];
          if (typeof v === 'number') ctx.fillText(format(v), bar.x, bar.y - 2);
        }),
      );
      ctx.restore();
    },
  };
}

function draw(id: string, config: ChartConfiguration): void {
  charts.get(id)?.destroy();
  const canvas = document.getElementById(id) as HTMLCanvasElement;
  charts.set(id, new Chart(canvas, config));
}

function axes(t: ReturnType<typeof theme>, title: string) {
  const tick = { color: t.fg, font: { family: t.font } };
  return {
    x: { ticks: tick, grid: { color: t.grid } },
    y: { ticks: tick, grid: { color: t.grid }, beginAtZero: true, title: { display: true, text: title, color: t.fg } },
  };
}

function render(): void {
  if (!state) return;
  const t = theme();
  Chart.defaults.color = t.fg;
  Chart.defaults.font.family = t.font;
  const selected = state.records.filter((r) => state!.selected.includes(r.id));
  (document.getElementById('empty') as HTMLElement).hidden = state.records.length > 0;
  (document.getElementById('charts') as HTMLElement).hidden = selected.length === 0;
  renderRuns();

  // The paper's bars and the runs' in two datasets (a legend says which is which), one bar per label.
  const ratioLabels: string[] = [];
  const paperValues: (number | null)[] = [];
  const runValues: (number | null)[] = [];
  for (const p of state.paper) {
    ratioLabels.push(`paper: ${p.cpu} (lmbench)`);
    paperValues.push(p.ratio);
    runValues.push(null);
  }
  for (const r of selected) {
    for (const p of pairs(r, 'bw')) {
      if (p.sql === undefined || p.stock === undefined) continue;
      ratioLabels.push(p.label);
      paperValues.push(null);
      runValues.push(p.sql / p.stock);
    }
  }
  draw('ratio', {
    type: 'bar',
    data: {
      labels: ratioLabels,
      datasets: [
        { label: "the paper's Table 1 (lmbench)", data: paperValues, backgroundColor: t.paper, borderColor: t.grid, borderWidth: 1, grouped: false },
        { label: 'the runs compared here', data: runValues, backgroundColor: t.sql, borderColor: t.grid, borderWidth: 1, grouped: false },
      ],
    },
    options: {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      layout: { padding: { top: 18 } },
      plugins: { legend: { labels: { color: t.fg } }, tooltip: { callbacks: { label: (c) => `SQL / stock bandwidth ${Number(c.raw).toFixed(4)}: the SQL pipe ${versusStock('bw', Number(c.raw), 1)}` } } },
      scales: axes(t, 'SQL / stock (1 = as fast)'),
    },
    plugins: [valueLabels(t.fg, (v) => v.toFixed(v < 0.1 ? 3 : 2))],
  });

  for (const [id, bench, unit] of [['bw', 'bw', 'MB/s'], ['lat', 'lat', 'µs']] as const) {
    const rows = selected.flatMap((r) => pairs(r, bench));
    const datasets = [
      { label: 'stock pipe (ours)', data: rows.map((p) => p.stock ?? null), backgroundColor: t.stock },
      { label: 'SQL pipe', data: rows.map((p) => p.sql ?? null), backgroundColor: t.sql },
    ];
    if (rows.some((p) => p.lmbench !== undefined)) datasets.push({ label: 'stock pipe (lmbench)', data: rows.map((p) => p.lmbench ?? null), backgroundColor: t.lmbench });
    draw(id, {
      type: 'bar',
      data: { labels: rows.map((p) => p.label), datasets },
      options: { responsive: true, maintainAspectRatio: false, animation: false, plugins: { legend: { labels: { color: t.fg } }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${Number(c.raw).toFixed(2)} ${unit}` } } }, scales: axes(t, unit) },
    });
  }
  renderTable(selected);
}

function renderRuns(): void {
  const box = document.getElementById('runs')!;
  box.replaceChildren();
  if (!state || state.records.length === 0) return;
  const table = el('table', undefined, 'runs');
  const head = el('tr');
  for (const h of ['compare', 'host', 'kernel', 'CPU', 'date', 'configuration', 'results', '']) head.append(el('th', h));
  table.append(head);
  for (const r of state.records) {
    const tr = el('tr');
    const check = el('input');
    check.type = 'checkbox';
    check.checked = state.selected.includes(r.id);
    check.setAttribute('aria-label', `compare ${runLabel(r)}`);
    check.addEventListener('change', () => {
      const ids = state!.selected.filter((x) => x !== r.id);
      if (check.checked) ids.push(r.id);
      vscode.postMessage({ type: 'select', ids });
    });
    const td = el('td');
    td.append(check);
    tr.append(td, el('td', `${r.host}${r.kind === 'simulator' ? '' : ` (${r.kind})`}`), el('td', r.release), el('td', r.cpu + (r.emulated ? ' — emulated (TCG): only ratios mean anything' : '')));
    tr.append(el('td', new Date(r.date).toLocaleString()));
    const c = r.configuration;
    tr.append(el('td', `${c.chunks.map(chunkLabel).join(', ')}${c.ahead ? `; writer ${c.ahead} ahead` : ''}${c.holders ? `; ${c.holders} holders` : ''}; ${c.runs} runs`));
    const programs = [...new Set(r.series.map((s) => (s.program === 'lmbench' ? 'lmbench' : s.program === 'simulator' ? 'simulator' : 'ours')))];
    tr.append(el('td', `${programs.join(' + ')}${r.problems.length ? ` · ${r.problems.length} problem(s)` : ''}`));
    const del = el('button', 'Delete', 'secondary');
    del.addEventListener('click', () => vscode.postMessage({ type: 'delete', id: r.id }));
    const tdDel = el('td');
    tdDel.append(del);
    tr.append(tdDel);
    table.append(tr);
  }
  box.append(table);
}

function renderTable(selected: RecordView[]): void {
  const box = document.getElementById('table')!;
  box.replaceChildren();
  for (const r of selected) {
    box.append(el('h2', `${runLabel(r)} — ${r.cpu}, ${new Date(r.date).toLocaleString()}`));
    if (r.emulated) box.append(el('p', 'Measured under emulation (QEMU TCG): compare the ratios, not the MB/s or µs.', 'note'));
    const table = el('table', undefined, 'numbers');
    const head = el('tr');
    for (const h of ['program', 'measure', 'configuration', 'chunk', 'stock pipe', 'SQL pipe', 'SQL pipe vs stock']) head.append(el('th', h));
    table.append(head);
    for (const bench of ['bw', 'lat'] as const) {
      const unit = bench === 'bw' ? 'MB/s' : 'µs';
      for (const s of r.series.filter((x) => x.bench === bench && x.pipe === 'sql')) {
        const stock = r.series.find((o) => o.pipe === 'stock' && o.program === (s.program === 'simulator' ? 'ours' : s.program) && o.bench === bench && o.config === s.config && o.chunk === s.chunk);
        const sq = median(s.values);
        const st = stock ? median(stock.values) : undefined;
        const tr = el('tr');
        tr.append(el('td', s.program === 'simulator' ? 'simulator (ours)' : s.program === 'ours' ? 'bw_sqlpipe / lat_sqlpipe (ours)' : 'lmbench'), el('td', bench === 'bw' ? 'bandwidth' : 'latency'), el('td', s.config), el('td', bench === 'bw' ? chunkLabel(s.chunk) : '1 B'));
        const vs = el('td', st === undefined ? '—' : versusStock(bench, sq, st));
        if (st !== undefined) vs.title = `SQL / stock ${bench === 'bw' ? 'bandwidth' : 'latency'} = ${(sq / st).toFixed(4)}`;
        tr.append(el('td', st === undefined ? '—' : `${st.toFixed(2)} ${unit}`), el('td', `${sq.toFixed(2)} ${unit}`), vs);
        table.append(tr);
      }
      for (const s of r.series.filter((x) => x.bench === bench && x.program === 'lmbench')) {
        const tr = el('tr');
        tr.append(el('td', 'lmbench'), el('td', bench === 'bw' ? 'bandwidth' : 'latency'), el('td', s.config), el('td', bench === 'bw' ? chunkLabel(s.chunk) : '1 B'), el('td', `${median(s.values).toFixed(2)} ${unit}`), el('td', '—'), el('td', '—'));
        table.append(tr);
      }
    }
    box.append(table);
    for (const n of r.notes ?? []) box.append(el('p', n, 'note'));
    for (const p of r.problems) box.append(el('p', `problem: ${p}`, 'problem'));
  }
  if (state) {
    box.append(el('h2', "The paper's Table 1 (pipe bandwidth, lmbench)"));
    const table = el('table', undefined, 'numbers');
    const head = el('tr');
    for (const h of ['CPU', 'memory', 'stock pipe', 'SQL pipe', 'SQL pipe vs stock']) head.append(el('th', h));
    table.append(head);
    for (const p of state.paper) {
      const tr = el('tr');
      tr.append(el('td', p.cpu), el('td', p.memory), el('td', `${p.stock.toFixed(2)} MB/s`), el('td', `${p.sql.toFixed(2)} MB/s`), el('td', versusStock('bw', p.sql, p.stock)));
      table.append(tr);
    }
    box.append(table);
  }
}

window.addEventListener('message', (e: MessageEvent<ToPage>) => {
  if (e.data.type === 'state') {
    state = e.data;
    render();
  }
});
document.getElementById('run')!.addEventListener('click', () => vscode.postMessage({ type: 'run' }));
for (const format of ['csv', 'json'] as const) document.getElementById(format)!.addEventListener('click', () => vscode.postMessage({ type: 'export', format, ids: state?.selected ?? [] }));
// The theme changes the body's class: draw again in its colours.
new MutationObserver(() => render()).observe(document.body, { attributes: true, attributeFilter: ['class'] });
vscode.postMessage({ type: 'ready' });
