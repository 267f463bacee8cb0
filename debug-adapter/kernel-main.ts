/* The kernel debug adapter as a standalone program (stdin/stdout), for DebugClient tests and other editors. */
import * as path from 'path';
import { DebugSession } from '@vscode/debugadapter';
import { KernelDebugSession } from './kernel-session';
import { gdbGuest, stopGuest } from '../extension/machines/guest';

const ROOT = path.join(__dirname, '..');

class StandaloneKernelSession extends KernelDebugSession {
  constructor() {
    super({ ensure: (log) => gdbGuest(ROOT, log), stop: () => stopGuest(ROOT) });
  }
}

DebugSession.run(StandaloneKernelSession);
