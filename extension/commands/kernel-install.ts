/*
 * Install Kernel: for WSL2 (the image beside the Windows profile, `kernel=` in .wslconfig after the user
 * has seen the change and a backup is written, then `wsl --shutdown` and Reconnect), or as the local QEMU
 * guest (booted by the extension's guest.sh on a free port, then connected to).
 */
import * as net from 'net';
import * as path from 'path';
import * as vscode from 'vscode';
import { Setting } from '../ids';
import { shellQuote } from '../machines/kernel-host';
import { KernelWorkError } from '../machines/kernel-work';
import { LocalShell } from '../machines/sources';
import { guestStateDir, localGuest } from '../machines/guest';
import type { ConnectCommands } from './connect';
import type { KernelArgs, KernelCommands } from './kernel-work';
import { UserError } from './register';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

export async function installKernel(k: KernelCommands, ctx: vscode.ExtensionContext, connections: ConnectCommands, a: KernelArgs): Promise<unknown> {
  const image = await k.image(a);
  type Item = vscode.QuickPickItem & { value: 'wsl' | 'qemu' };
  const how = await vscode.window.showQuickPick<Item>(
    [
      { label: 'WSL2', description: 'copy to the Windows profile and set kernel= in .wslconfig', value: 'wsl' },
      { label: 'QEMU on This Machine', description: 'boot it as the local guest and connect to it', value: 'qemu' },
    ],
    { title: `Install ${image}` },
  );
  if (!how) return undefined;
  if (how.value === 'qemu') return bootGuest(k, ctx, connections, image);
  const work = await k.work(a);
  const release = (await work.shell.exec(`cat "$(dirname "$(dirname "$(dirname "$(dirname ${JSON.stringify(image)})")")")/include/config/kernel.release" 2>/dev/null`)).stdout.toString().trim();
  const done = await k.withProgress(`Installing the kernel for WSL2 on ${work.label}`, () =>
    work.installWsl(image, release, async (edit, file) => {
      if (!edit.changed) return true;
      const write = 'Write .wslconfig';
      const answer = await vscode.window.showWarningMessage(
        `Change ${file}?`,
        { modal: true, detail: `${edit.before ? `- ${edit.before}\n+ ${edit.after}` : `+ ${edit.after}   (under [wsl2])`}\n\nA backup of the current file is written first; other keys and comments stay as they are.` },
        write,
      );
      return answer === write;
    }),
  );
  if (!done) return undefined;
  k.log.info(`installed ${done.windowsImage}; ${done.file}${done.backup ? ` (backup ${done.backup})` : ''}: ${done.edit.after}`);
  const again = 'Reconnect';
  const b = await vscode.window.showInformationMessage(
    `SQLiteOS: ${done.windowsImage} is installed${done.backup ? ` (old .wslconfig kept as ${path.posix.basename(done.backup)})` : ''}. Run \`wsl --shutdown\` in Windows, start the distro again, then reconnect.`,
    again,
  );
  // The destination as the user gave it (the connection's label is not always one ssh-config resolves).
  const dest = a.machine ?? vscode.workspace.getConfiguration(Setting.section).get<string>(Setting.kernelMachine) ?? work.label;
  if (b === again) return dest === 'local' ? connections.connectThisMachine() : reconnect(connections, dest);
  return done;
}

/** After `wsl --shutdown`: tries the host again for two minutes, then says so. */
async function reconnect(connections: ConnectCommands, dest: string): Promise<unknown> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Waiting for ${dest}`, cancellable: true }, async (_p, token) => {
    const until = Date.now() + 120000;
    while (!token.isCancellationRequested && Date.now() < until) {
      try {
        return await connections.connectHost(dest);
      } catch {
        await new Promise((r) => setTimeout(r, 3000));
      }
    }
    throw new UserError(`${dest} did not come back within two minutes`);
  });
}

/**
 * QEMU on this machine: the guest of `sqliteos guest start` (the extension's own guest.sh, on a free
 * port) with this kernel, then connected to through the ssh_config and known_hosts it writes.
 */
async function bootGuest(k: KernelCommands, ctx: vscode.ExtensionContext, connections: ConnectCommands, image: string): Promise<unknown> {
  if (process.platform !== 'linux') throw new UserError('QEMU guests boot on Linux only: install for WSL2, or build and boot on a Linux host.');
  const script = path.join(ctx.extensionPath, 'kernel-scripts', 'qemu', 'guest.sh');
  const shell = new LocalShell();
  const port = await freePort();
  if ((await shell.exec(`bash ${shellQuote(script)} status`)).code === 0) {
    const stop = 'Stop It and Boot';
    if ((await vscode.window.showWarningMessage('A QEMU guest is already running. Stop it and boot this kernel instead?', { modal: true }, stop)) !== stop) return undefined;
    await shell.exec(`bash ${shellQuote(script)} stop`);
  }
  const up = await k.withProgress(`Booting ${image} under QEMU`, async (on) => {
    let out = '';
    const r = await shell.stream(`bash ${shellQuote(script)} start --kernel ${shellQuote(image)} --port ${port} 2>&1`, (c) => {
      out += c.toString();
      on({ kind: 'line', text: c.toString().trimEnd() });
    });
    if (r.code !== 0) throw new KernelWorkError(`the QEMU guest did not start: ${out.trim().split('\n').pop() ?? `exit ${r.code}`}`);
    return true;
  });
  if (!up) return undefined;
  const guest = localGuest(ctx.extensionPath);
  if (!guest?.running) throw new UserError(`the QEMU guest started but is not running now: see ${path.join(guestStateDir(ctx.extensionPath), 'console.log')}`);
  return connections.connectDestination(guest.destination, `the QEMU guest (127.0.0.1:${guest.port})`);
}
