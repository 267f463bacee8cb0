/*
 * Real kernels from the palette: Connect to Host… (Hosts of ~/.ssh/config, the `sqliteos.ssh.hosts`
 * setting, or user@host[:port] typed in), This Machine (when the extension host itself runs Linux: VS Code's
 * WSL or SSH remote), Connect to WSL2 Guest… (how to reach one; on Windows, its distros), Disconnect.
 * A failed connect leaves the current target as it was and says why; the host key is never accepted
 * without the user.
 */
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as vscode from 'vscode';
import { Cmd, Ctx, Defaults, Setting } from '../ids';
import { Session } from '../session';
import { RemoteTarget, ShellSource } from '../targets/remote';
import { bundledHelper, localSource, sshSource } from '../machines/sources';
import { describeGuest, localGuest, resolveWithGuest } from '../machines/guest';
import { configuredHosts, Destination, DestinationError } from '../machines/ssh/config';
import { ConnectionManager, SshError } from '../machines/ssh/connection';
import { storedPassphrase, vscodePrompts } from './prompts';
import { Action, UserError, register } from './register';

export class ConnectCommands implements vscode.Disposable {
  readonly manager: ConnectionManager;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly session: Session,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.manager = new ConnectionManager(() => ({
      prompts: vscodePrompts(ctx.secrets),
      hostKeyPolicy: 'ask',
      cachedPassphrase: storedPassphrase(ctx.secrets),
      timeoutMs: 1000 * vscode.workspace.getConfiguration(Setting.section).get<number>(Setting.connectTimeout, Defaults[Setting.connectTimeout]),
    }));
  }

  registerAll(): void {
    const r = <A extends unknown[]>(id: Parameters<typeof register>[2], fn: (...a: A) => unknown) => register(this.ctx, this.log, id, fn);
    r(Cmd.connect, (dest?: string) => this.connectHost(typeof dest === 'string' ? dest : undefined));
    r(Cmd.connectThisMachine, () => this.connectThisMachine());
    r(Cmd.connectWsl, () => this.connectWsl());
    r(Cmd.disconnect, () => this.session.setTarget(undefined));
    this.ctx.subscriptions.push(
      this.session.onDidChangeTarget((t) => void vscode.commands.executeCommand('setContext', Ctx.remoteTarget, t instanceof RemoteTarget)),
    );
  }

  private async pickHost(): Promise<string | undefined> {
    const fromSettings = vscode.workspace.getConfiguration(Setting.section).get<string[]>(Setting.sshHosts, []);
    let fromConfig: string[] = [];
    try {
      fromConfig = configuredHosts();
    } catch (e) {
      this.log.warn(`~/.ssh/config: ${(e as Error).message}`);
    }
    const items: (vscode.QuickPickItem & { dest?: string; run?: () => Promise<unknown> })[] = [
      ...this.guestItems(),
      ...fromConfig.map((h) => ({ label: h, description: '~/.ssh/config', dest: h })),
      ...fromSettings.map((h) => ({ label: h, description: 'sqliteos.ssh.hosts', dest: h })),
    ];
    if (process.platform === 'linux') items.push({ label: '$(vm) This Machine', description: 'the Linux the extension runs on', run: () => this.connectThisMachine() });
    items.push({ label: '$(terminal-linux) Connect to WSL2 Guest…', description: 'how to reach a WSL2 distro', run: () => this.connectWsl() });
    const qp = vscode.window.createQuickPick<(typeof items)[number]>();
    qp.title = 'Connect to a SQLiteOS kernel';
    qp.placeholder = 'A Host of ~/.ssh/config, or user@host[:port]';
    qp.items = items;
    return new Promise((resolve) => {
      qp.onDidAccept(() => {
        const sel = qp.selectedItems[0];
        qp.hide();
        if (sel?.run) {
          void sel.run();
          resolve(undefined);
        } else resolve(sel?.dest ?? (qp.value.trim() || undefined));
      });
      qp.onDidHide(() => resolve(undefined));
      qp.show();
    });
  }

  /** The local QEMU guest (`sqliteos guest start`), first in the list while it runs. */
  private guestItems(): (vscode.QuickPickItem & { dest: string })[] {
    const g = localGuest(this.ctx.extensionPath);
    if (!g?.running) return [];
    return [{ label: '$(vm-running) Local QEMU guest', description: describeGuest(g), detail: `root@127.0.0.1:${g.port}, with its own key and host key (${g.state})`, dest: 'guest' }];
  }

  async connectHost(dest?: string): Promise<RemoteTarget | undefined> {
    const d = dest ?? (await this.pickHost());
    if (!d) return undefined;
    let resolved;
    try {
      resolved = resolveWithGuest(d, this.ctx.extensionPath);
    } catch (e) {
      if (e instanceof DestinationError) throw new UserError(e.message);
      throw e;
    }
    const label = resolved.name === 'guest' ? `the local QEMU guest (127.0.0.1:${resolved.port})` : d;
    return this.use(sshSource(resolved, this.manager), `Connecting to ${label}…`, () => this.connectHost(d));
  }

  /** A destination resolved elsewhere (the local QEMU guest just booted). */
  connectDestination(d: Destination, label: string): Promise<RemoteTarget | undefined> {
    return this.use(sshSource(d, this.manager), `Connecting to ${label}…`, () => this.connectDestination(d, label));
  }

  async connectThisMachine(): Promise<RemoteTarget | undefined> {
    if (process.platform !== 'linux') throw new UserError(`This machine runs ${process.platform}, not Linux: there is no SQLiteOS kernel to read here. Connect to a host or a WSL2 guest instead.`);
    return this.use(localSource(), 'Reading this machine…');
  }

  /**
   * Connects; only on success does the new target replace the current one. Each attempt ends within
   * sqliteos.ssh.connectTimeout (time spent answering a question not counted) or at Cancel, and a
   * failure says what to do next: Retry, or for a refused login Open SSH Config / Add Host.
   */
  private async use(source: ShellSource, title: string, retry: () => Promise<unknown> = () => this.use(source, title)): Promise<RemoteTarget | undefined> {
    const interval = () => vscode.workspace.getConfiguration(Setting.section).get<number>(Setting.pollInterval, Defaults[Setting.pollInterval]);
    const target = new RemoteTarget(source, bundledHelper(path.join(this.ctx.extensionPath, 'dist')), { pollIntervalMs: interval });
    try {
      const facts = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, (_p, token) => {
        const cancelled = new Promise<never>((_, reject) => token.onCancellationRequested(() => reject(new UserError(`${source.label}: cancelled`))));
        return Promise.race([target.start(), cancelled]);
      });
      this.session.setTarget(target);
      this.log.info(`connected to ${source.label}: ${target.info().state}`);
      if (facts.problem) void vscode.window.showWarningMessage(`SQLiteOS: ${source.label}: ${facts.problem}`);
      return target;
    } catch (e) {
      target.dispose();
      this.log.warn(`${source.label}: ${(e as Error).message}`);
      if (e instanceof SshError && e.kind === 'closed' && /cancelled$/.test(e.message)) throw new UserError(`${source.label}: cancelled`, [{ title: 'Retry', run: retry }]);
      throw new UserError((e as Error).message, failureActions(e, retry));
    }
  }

  /** How to reach a WSL2 guest; on Windows, its distros, and sshd started in the chosen one. */
  private async connectWsl(): Promise<unknown> {
    if (process.platform === 'win32') {
      const distros = await listWslDistros().catch((e: Error) => {
        throw new UserError(`wsl.exe --list failed: ${e.message}. Is WSL installed?`);
      });
      const pick = await vscode.window.showQuickPick(distros, { title: 'Which WSL2 distro runs the SQLiteOS kernel?' });
      if (!pick) return undefined;
      const start = 'Start sshd there';
      const yes = await vscode.window.showInformationMessage(
        `Start the SSH server in ${pick}? (runs: wsl.exe -d ${pick} -u root -- service ssh start; needs openssh-server in the distro)`,
        { modal: true },
        start,
      );
      if (yes === start) await runWsl(['-d', pick, '-u', 'root', '--', 'service', 'ssh', 'start']).catch((e: Error) => this.log.warn(`sshd in ${pick}: ${e.message}`));
      const user = await vscode.window.showInputBox({ title: `Your user name in ${pick}`, prompt: 'WSL2 forwards localhost: the guest is reached as user@localhost:22' });
      return user ? this.connectHost(`${user}@localhost:22`) : undefined;
    }
    const connect = 'Connect to user@localhost…';
    const pick = await vscode.window.showInformationMessage(
      'Reaching a WSL2 guest',
      {
        modal: true,
        detail: [
          '1. In the distro: sudo apt-get install openssh-server && sudo service ssh start',
          '2. WSL2 forwards localhost, so from Windows the guest is user@localhost:22 (or the address `hostname -I` prints in the guest).',
          '3. The guest must run a SQLiteOS kernel: the companion kernel (kernel-scripts/README.md, "Building for WSL2") or the published one.',
          'VS Code on Windows lists your distros here and can start sshd in one.',
        ].join('\n'),
      },
      connect,
    );
    if (pick !== connect) return undefined;
    const dest = await vscode.window.showInputBox({ title: 'The WSL2 guest', value: 'user@localhost:22' });
    return dest ? this.connectHost(dest) : undefined;
  }

  dispose(): void {
    this.manager.closeAll();
  }
}

/** What a failed connection offers: the SSH config for a refused login, Retry for the rest. */
function failureActions(e: unknown, retry: () => Promise<unknown>): Action[] {
  if (e instanceof SshError && e.kind === 'auth') {
    return [
      { title: 'Open SSH Config', run: () => openSshConfig() },
      { title: 'Add Host', run: () => openSshConfig(hostTemplate(e.dest)) },
    ];
  }
  if (e instanceof SshError && e.kind === 'host-key') return [];
  return [{ title: 'Retry', run: retry }];
}

/** A Host entry for user@host:port, for the user to complete and save. */
export function hostTemplate(dest: string): string {
  const m = /^(?:([^@]+)@)?\[?([^\]]+?)\]?(?::(\d+))?$/.exec(dest);
  const [user, host, port] = m ? [m[1], m[2], m[3]] : [undefined, dest, undefined];
  const name = host === '127.0.0.1' || host === 'localhost' ? `local${port ? `-${port}` : ''}` : host;
  return [`Host ${name}`, `  HostName ${host}`, ...(port ? [`  Port ${port}`] : []), ...(user ? [`  User ${user}`] : []), '  IdentityFile ~/.ssh/id_ed25519', ''].join('\n');
}

/** ~/.ssh/config in an editor (made if missing), with an unsaved Host entry appended when given one. */
async function openSshConfig(append?: string): Promise<void> {
  const file = path.join(os.homedir(), '.ssh', 'config');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, '', { mode: 0o600 });
  }
  const editor = await vscode.window.showTextDocument(vscode.Uri.file(file));
  if (!append) return;
  const doc = editor.document;
  const end = doc.lineAt(doc.lineCount - 1).range.end;
  const gap = doc.getText().length && !doc.getText().endsWith('\n\n') ? (doc.getText().endsWith('\n') ? '\n' : '\n\n') : '';
  await editor.edit((b) => b.insert(end, gap + append));
  editor.revealRange(new vscode.Range(end, end));
}

function runWsl(args: string[]): Promise<Buffer> {
  return new Promise((resolve, reject) => execFile('wsl.exe', args, { encoding: 'buffer' }, (e, out) => (e ? reject(e) : resolve(out))));
}

/** `wsl.exe --list --quiet` prints UTF-16LE, one distro a line. */
export async function listWslDistros(): Promise<string[]> {
  return decodeWslList(await runWsl(['--list', '--quiet']));
}

export function decodeWslList(out: Buffer): string[] {
  return out
    .toString('utf16le')
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((s) => s.replace(/\0/g, '').trim())
    .filter(Boolean);
}
