// Bundles the in-host test suites (dist-test/host.js) for extensionTestsPath; vscode and mocha stay
// external (the host provides vscode; mocha loads from node_modules).
import { build } from 'esbuild';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await build({
  entryPoints: [join(root, 'test/host/index.ts')],
  outfile: join(root, 'dist-test/host.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['vscode', 'mocha'],
  sourcemap: true,
  logLevel: 'warning',
});
console.log('built dist-test/host.js');
