// Builds dist/: the CLI bundle (sql.js inside, its wasm copied beside it). The extension and debug-adapter
// bundles join here as they land (STYLE.md: esbuild, vscode external).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync } from 'fs';
import { createRequire } from 'module';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
mkdirSync(join(root, 'dist'), { recursive: true });

await build({
  entryPoints: [join(root, 'extension/cli/main.ts')],
  outfile: join(root, 'dist/cli.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
});
await build({
  entryPoints: [join(root, 'extension/extension.ts')],
  outfile: join(root, 'dist/extension.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode'],
  sourcemap: true,
  logLevel: 'warning',
});
await build({
  entryPoints: [join(root, 'debug-adapter/main.ts')],
  outfile: join(root, 'dist/debug-adapter.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
});
copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), join(root, 'dist/sql-wasm.wasm'));
console.log('built dist/cli.js, dist/extension.js, dist/debug-adapter.js');
