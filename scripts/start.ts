/*
 * npm start: the extension on the simulator with an example scenario loaded. In VS Code when `code` is on
 * the PATH (as an extension under development); otherwise in code-server (installed on first use), whose
 * local URL is printed. Ctrl-C stops it.
 */
import { spawn, spawnSync } from 'child_process';
import { ROOT, startCodeServer, workbenchUrl } from './code-server';

// Opened as the Open Example command opens it: a copy, never the checkout's own file.
const env = { SQLITEOS_START_EXAMPLE: '08-pending-writer.sqlos' };

function hasCode(): boolean {
  return spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
}

async function main(): Promise<void> {
  if (process.env.SQLITEOS_NO_VSCODE !== '1' && hasCode()) {
    console.log('Opening VS Code with the extension under development and an example scenario loaded.');
    spawn('code', ['--extensionDevelopmentPath', ROOT, '--new-window'], { stdio: 'inherit', env: { ...process.env, ...env } });
    return;
  }
  const port = Number(process.env.PORT ?? 8080);
  console.log('VS Code (`code`) is not on the PATH: starting code-server instead.');
  const server = await startCodeServer({ env, port });
  console.log(`\nSQLiteOS Companion in code-server: ${workbenchUrl(server)}\n(open it in a browser; Ctrl-C stops the server)\n`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((e: Error) => {
  console.error(`npm start: ${e.message}`);
  process.exit(1);
});
