// Builds dist/ with esbuild: the CLI, the extension (vscode external) and the standalone debug adapter,
// with sql.js's wasm copied beside them. `--tests` bundles the in-host test suites into dist-test/ instead
// (vscode and mocha external: the host provides one, node_modules the other).
import { build } from 'esbuild';
import { execFileSync } from 'child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'fs';
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
  copyFileSync(require.resolve('sql.js/dist/sql-wasm.wasm'), join(root, 'dist/sql-wasm.wasm'));
  console.log('built dist/cli.js, dist/extension.js, dist/debug-adapter.js');
  buildHelper();
}

// The guest helper the SSH target uploads (static, so it runs on any x86_64 Linux whatever its libc).
// Rebuilt only when its source is newer; without a C compiler the SSH target says the helper is missing.
function buildHelper() {
  const src = join(root, 'kernel-scripts/tools/sqliteos-inspect.c');
  const out = join(root, 'dist/helpers/sqliteos-inspect-x86_64');
  if (existsSync(out) && statSync(out).mtimeMs >= statSync(src).mtimeMs) return;
  if (process.arch !== 'x64') {
    console.warn('build: not on x86_64, so dist/helpers/sqliteos-inspect-x86_64 is not built (SSH targets need it)');
    return;
  }
  mkdirSync(join(root, 'dist/helpers'), { recursive: true });
  try {
    execFileSync('gcc', ['-static', '-O2', '-Wall', '-o', out, src], { stdio: 'inherit' });
    console.log('built dist/helpers/sqliteos-inspect-x86_64');
  } catch (e) {
    console.warn(`build: cannot build the SSH helper (${e.message}); install gcc and libc6-dev (Debian: build-essential)`);
  }
}
