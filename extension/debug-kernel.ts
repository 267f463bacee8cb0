/*
 * The `sqliteos-kernel` debug type, inline in the extension (the adapter also builds as
 * dist/kernel-debug-adapter.js): gdb on the companion kernel, and at every stop the four views show
 * SQLiteOS as the halted kernel holds it (read from its memory), covering the target they showed before
 * until the session ends.
 */
import * as vscode from 'vscode';
import * as fs from 'fs';
import * as path from 'path';
import { KernelDebugSession } from '../debug-adapter/kernel-session';
import { gdbGuest, stopGuest } from './machines/guest';
import { HaltedKernelTarget } from './targets/halted';
import { Session } from './session';

export const KERNEL_DEBUG_TYPE = 'sqliteos-kernel';

export function registerKernelDebugging(ctx: vscode.ExtensionContext, session: Session): void {
  ctx.subscriptions.push(
    vscode.debug.registerDebugAdapterDescriptorFactory(KERNEL_DEBUG_TYPE, {
      createDebugAdapterDescriptor: (debug) => {
        const root = ctx.extensionPath;
        const s = new KernelDebugSession({ ensure: (log) => gdbGuest(root, log), stop: () => stopGuest(root) });
        const core = debug.configuration.core as string | undefined;
        const target = core ? new HaltedKernelTarget(`core ${path.basename(core)}`, 'core') : new HaltedKernelTarget('the companion kernel');
        let lease: vscode.Disposable | undefined;
        s.onSnapshot = (snap, where, error) => {
          lease ??= session.lend(target);
          target.stopped(snap, where, error);
        };
        s.onResumed = () => target.resumed();
        s.onEnded = () => lease?.dispose();
        return new vscode.DebugAdapterInlineImplementation(s);
      },
    }),
    vscode.debug.registerDebugConfigurationProvider(KERNEL_DEBUG_TYPE, {
      resolveDebugConfiguration: (folder, config) => {
        // our sqliteos/*.c where the workspace has them (a checkout), so frames open the files being edited
        const mine = folder && path.join(folder.uri.fsPath, 'kernel-scripts', 'sqliteos');
        if (!config.sources && mine && fs.existsSync(mine)) config.sources = mine;
        return config;
      },
    }),
  );
}
