// The same in-host suites under @vscode/test-electron, for machines that can download VS Code
// (this project's CI cannot, so it runs them in code-server: test/e2e/host.test.ts).
import { runTests } from '@vscode/test-electron';
import { mkdtempSync, cpSync } from 'fs';
import { tmpdir } from 'os';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const workspace = mkdtempSync(join(tmpdir(), 'sqliteos-electron-'));
cpSync(join(root, 'examples'), join(workspace, 'examples'), { recursive: true });
try {
  await runTests({
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'dist-test', 'host.js'),
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust'],
  });
} catch (e) {
  console.error(`test-electron: ${e.message ?? e}`);
  process.exit(1);
}
