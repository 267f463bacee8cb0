/*
 * Starts a real code-server (4.100.3, installed by scripts/install-code-server.sh) on 127.0.0.1 with this
 * repository installed as an extension (a symlink in a fresh --extensions-dir) and a workspace holding the
 * examples. Used by `npm start` and by the end-to-end tests; everything lives in a temp dir that stop()
 * removes.
 */
import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';

export const ROOT = path.join(__dirname, '..');
const CODE_SERVER = path.join(ROOT, '.code-server', 'node_modules', '.bin', 'code-server');

export interface Server {
  url: string;
  dir: string;
  workspace: string;
  log: () => string;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (code-server here; sshd and the QEMU guest in the SSH tests). */
export function freePort(): Promise<number> {
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
  /** Install this .vsix instead of linking the development folder. */
  vsix?: string;
}

export async function startCodeServer(opts: ServerOptions = {}): Promise<Server> {
  const env = opts.env ?? {};
  ensureCodeServer();
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { publisher: string; name: string; version: string };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sqliteos-code-server-'));
  const extDir = path.join(dir, 'extensions');
  const workspace = path.join(dir, 'workspace');
  fs.mkdirSync(extDir);
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  // The development folder, linked in; or, with a .vsix (SQLITEOS_VSIX or opts.vsix), the package a user
  // installs, installed the way a user does it.
  const vsix = opts.vsix ?? process.env.SQLITEOS_VSIX;
  if (vsix) {
    execFileSync(CODE_SERVER, ['--extensions-dir', extDir, '--user-data-dir', path.join(dir, 'data'), '--install-extension', path.resolve(vsix)], { stdio: 'pipe' });
    if (!fs.readdirSync(extDir).some((d) => d.startsWith(`${pkg.publisher}.${pkg.name}-`))) throw new Error(`code-server did not install ${vsix}`);
  } else {
    fs.symlinkSync(ROOT, path.join(extDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`));
  }
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

export function workbenchUrl(s: Server, payload?: [string, string][]): string {
  const q = new URLSearchParams({ folder: s.workspace });
  if (payload) q.set('payload', JSON.stringify(payload));
  return `${s.url}/?${q.toString()}`;
}
