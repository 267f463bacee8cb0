// Builds dist/ with esbuild: the CLI, the extension (vscode external) and the standalone debug adapter,
// with sql.js's wasm copied beside them. `--tests` bundles the in-host test suites into dist-test/ instead
// (vscode and mocha external: the host provides one, node_modules the other).
import { build } from 'esbuild';
import { execFileSync } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'fs';
import { createRequire } from 'module';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

// ssh2's optional native parts (cpu-features, its sshcrypto binding) stay out of the bundles: ssh2 loads
// them in a try and works in plain JavaScript without them.
const NATIVE = ['cpu-features', '*.node'];

function bundle(entry, out, external = []) {
  return build({
    entryPoints: [join(root, entry)],
    outfile: join(root, out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: [...external, ...NATIVE],
    sourcemap: true,
    logLevel: 'warning',
  });
}

if (process.argv.includes('--tests')) {
  await bundle('test/host/index.ts', 'dist-test/host.js', ['vscode', 'mocha']);
  console.log('built dist-test/host.js');
} else {
  mkdirSync(join(root, 'dist'), { recursive: true });
  await bundle('extension/cli/main.ts', 'dist/cli.js');
  await bundle('extension/extension.ts', 'dist/extension.js', ['vscode']);
  await bundle('debug-adapter/main.ts', 'dist/debug-adapter.js');
  await bundle('debug-adapter/kernel-main.ts', 'dist/kernel-debug-adapter.js');
  copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), join(root, 'dist/sql-wasm.wasm'));
  // The benchmark report's page: its script for the browser, Chart.js (npm, shipped: no CDN) and its licence.
  mkdirSync(join(root, 'dist/media'), { recursive: true });
  await build({ entryPoints: [join(root, 'extension/webview/bench-report.ts')], outfile: join(root, 'dist/media/bench-report.js'), bundle: true, platform: 'browser', target: 'es2022', format: 'iife', logLevel: 'warning' });
  const chartJs = join(root, 'node_modules', 'chart.js');
  copyFileSync(join(chartJs, 'dist', 'chart.umd.min.js'), join(root, 'dist/media/chart.umd.min.js'));
  copyFileSync(join(chartJs, 'LICENSE.md'), join(root, 'dist/media/chart.js-LICENSE.md'));
  copyFileSync(join(root, 'media/bench-report.css'), join(root, 'dist/media/bench-report.css'));
  console.log('built dist/cli.js, dist/extension.js, dist/debug-adapter.js, dist/kernel-debug-adapter.js');
  buildHelper();
}

// A C file and the headers it includes with "...", followed through their own includes, into seen.
function localIncludes(file, seen) {
  if (seen.has(file) || !existsSync(file)) return;
  seen.add(file);
  for (const m of readFileSync(file, 'utf8').matchAll(/^#include "([^"]+)"/gm)) localIncludes(join(dirname(file), m[1]), seen);
}

// The static programs SSH targets get (static, so they run on any x86_64 Linux whatever its libc): the
// inspect helper the views read the kernel through, bw_sqlpipe / lat_sqlpipe for Run Pipe Benchmarks, and
// sqliteos-run, which runs a scenario on the real kernel.
// Rebuilt only when a source (or a header it includes) is newer; without a C compiler the commands that need one say it is missing.
function buildHelper() {
  const tools = 'kernel-scripts/tools';
  const helpers = [
    [['kernel-scripts/tools/sqliteos-inspect.c'], 'sqliteos-inspect-x86_64'],
    [['kernel-scripts/bench/pipebench.c'], 'pipebench-x86_64'],
    [['sqliteos-run.c', 'run-plan.c', 'run-worker.c', 'run-observer.c'].map((f) => `${tools}/${f}`), 'sqliteos-run-x86_64'],
  ];
  for (const [srcs, name] of helpers) {
    const from = srcs.map((f) => join(root, f));
    const out = join(root, 'dist/helpers', name);
    // the sources and the headers they include (tools/kmsg.h, tools/sqliteos-nr.h): a change to any rebuilds the helper
    const inputs = new Set();
    for (const f of from) localIncludes(f, inputs);
    const built = existsSync(out) ? statSync(out).mtimeMs : -Infinity;
    if ([...inputs].every((f) => built >= statSync(f).mtimeMs)) continue;
    if (process.arch !== 'x64') {
      console.warn(`build: not on x86_64, so dist/helpers/${name} is not built (SSH targets need it)`);
      return;
    }
    mkdirSync(join(root, 'dist/helpers'), { recursive: true });
    try {
      execFileSync('gcc', ['-static', '-O2', '-Wall', '-o', out, ...from], { stdio: 'inherit' });
      console.log(`built dist/helpers/${name}`);
    } catch (e) {
      console.warn(`build: cannot build dist/helpers/${name} (${e.message}); install gcc and libc6-dev (Debian: build-essential)`);
    }
  }
}
