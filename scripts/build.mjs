// Builds dist/ with esbuild: the CLI, the extension (vscode external) and the standalone debug adapter,
// with sql.js's wasm copied beside them. `--tests` bundles the in-host test suites into dist-test/ instead
// (vscode and mocha external: the host provides one, node_modules the other).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'fs';
import { createRequire } from 'module';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function bundle(entry, out, external = []) {
  return build({
    entryPoints: [join(root, entry)],
    outfile: join(root, out),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external,
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
  copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), join(root, 'dist/sql-wasm.wasm'));
  console.log('built dist/cli.js, dist/extension.js, dist/debug-adapter.js');
}
