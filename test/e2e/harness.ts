/*
 * Starts a real code-server (4.100.3, installed by scripts/install-code-server.sh) on 127.0.0.1 with this
 * repository installed as an extension (a symlink in a fresh --extensions-dir), and a real Chromium
 * (Debian's) driven by playwright-core. Everything lives in a temp dir and is removed on stop().
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { Browser, Page, chromium } from 'playwright-core';

export const ROOT = path.join(__dirname, '..', '..');
const CODE_SERVER = path.join(ROOT, '.code-server', 'node_modules', '.bin', 'code-server');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(ROOT, 'test-results');

export interface Server {
  url: string;
  dir: string;
  workspace: string;
  log: () => string;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export function ensureCodeServer(): void {
  if (!fs.existsSync(CODE_SERVER)) execFileSync('bash', [path.join(ROOT, 'scripts', 'install-code-server.sh')], { stdio: 'inherit' });
}

export interface ServerOptions {
  env?: Record<string, string>;
  /** A fixed port (npm start); tests take a free one. */
  port?: number;
}

export async function startCodeServer(opts: ServerOptions = {}): Promise<Server> {
  const env = opts.env ?? {};
  ensureCodeServer();
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-e2e-'));
  const extDir = path.join(dir, 'extensions');
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(extDir);
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.symlinkSync(ROOT, path.join(extDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`));
  fs.cpSync(path.join(ROOT, 'examples'), path.join(workspace, 'examples'), { recursive: true });
  // Keep the UI quiet and predictable for the tests.
  const userDir = path.join(dir, 'data', 'User');
  fs.mkdirSync(userDir, { recursive: true });
  fs.writeFileSync(
    path.join(userDir, 'settings.json'),
    JSON.stringify({ 'workbench.startupEditor': 'none', 'security.workspace.trust.enabled': false, 'telemetry.telemetryLevel': 'off', 'workbench.tips.enabled': false, 'extensions.autoCheckUpdates': false, 'workbench.enableExperiments': false, 'git.enabled': false, 'git.openRepositoryInParentFolders': 'never' }),
  );
  const port = opts.port ?? (await freePort());
  let out = '';
  const proc: ChildProcess = spawn(
    CODE_SERVER,
    ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--extensions-dir', extDir, '--user-data-dir', path.join(dir, 'data'), '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', workspace],
    // Its own process group, so stop() ends the extension hosts and watchers it starts too.
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true },
  );
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`code-server exited (${proc.exitCode}):\n${out}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`code-server did not answer on ${url} within 60 s:\n${out}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    dir,
    workspace,
    log: () => out,
    stop: async () => {
      const group = (sig: NodeJS.Signals) => {
        try {
          process.kill(-proc.pid!, sig);
        } catch {
          // already gone
        }
      };
      group('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      group('SIGKILL');
      proc.stdout!.destroy();
      proc.stderr!.destroy();
      proc.unref();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The workbench URL with a folder and, for in-host tests, the payload VS Code reads its test path from. */
export function workbenchUrl(s: Server, payload?: [string, string][]): string {
  const q = new URLSearchParams({ folder: s.workspace });
  if (payload) q.set('payload', JSON.stringify(payload));
  return `${s.url}/?${q.toString()}`;
}
