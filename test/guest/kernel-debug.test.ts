/*
 * The kernel debugger (`sqliteos-kernel`) as VS Code drives it, over the real protocol: DebugClient
 * starts dist/kernel-debug-adapter.js, which runs real gdb on the QEMU guest's gdbstub (the DWARF kernel,
 * built when missing). A conditional function breakpoint on mem_lock taken for EXCLUSIVE; a scenario run
 * on the guest over SSH hits it (the SSH server forking the session writes the new process's row); the
 * top frame is our vfs.c, the locals show the level asked for, the SQLiteOS scope (read from the halted
 * kernel's memory) shows that writer (dropbear, by name) holding the write mutex inside sqlos_db_lock;
 * the frame disassembled; the breakpoint cleared and continue, and the run completes.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as path from 'path';
import { DebugClient } from '@vscode/debugadapter-testsupport';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { ROOT, guest } from './util';
import { freePort } from '../ssh/harness';

const ADAPTER = path.join(ROOT, 'dist', 'kernel-debug-adapter.js');
const CLI = path.join(ROOT, 'bin', 'sqliteos.js');

async function vars(dc: DebugClient, ref: number): Promise<Record<string, DebugProtocol.Variable>> {
  const v = (await dc.variablesRequest({ variablesReference: ref })).body.variables;
  return Object.fromEntries(v.map((x) => [x.name, x]));
}

describe('the kernel debugger: gdb on the QEMU guest', () => {
  after(() => guest('stop'));

  it('stops in mem_lock when an SSH session makes the kernel write, in our vfs.c, with the lock level and the writer read from memory; continue lets the run finish', { timeout: 3600000 }, async () => {
    guest('stop');
    // the DWARF kernel (built here when missing: about 25 min once per machine), no demo: the scenario's
    // writes are the kernel's only work
    const out = guest('start', '--gdb', '--no-demo', '--port', String(await freePort()));
    assert.match(out, /kbuild-gdb\/arch\/x86\/boot\/bzImage/);
    const dc = new DebugClient('node', ADAPTER, 'sqliteos-kernel');
    dc.defaultTimeout = 120000;
    await dc.start();
    let run: { code: number | null; out: string; err: string } | undefined;
    let stopped: Promise<DebugProtocol.Event> | undefined;
    let snapshot: Promise<DebugProtocol.Event> | undefined;
    try {
      await Promise.all([
        dc.waitForEvent('initialized').then(async () => {
          const b = await dc.setFunctionBreakpointsRequest({ breakpoints: [{ name: 'mem_lock', condition: 'level == 4' }] });
          assert.equal(b.body.breakpoints[0].verified, true, JSON.stringify(b.body.breakpoints));
          assert.equal(b.body.breakpoints[0].source?.path, path.join(ROOT, 'kernel-scripts', 'sqliteos', 'vfs.c'));
          stopped = dc.waitForEvent('stopped');
          snapshot = dc.waitForEvent('sqliteos/kernelSnapshot');
          await dc.configurationDoneRequest();
        }),
        dc.attachRequest({ gdb: 'guest' } as DebugProtocol.AttachRequestArguments),
      ]);
      // a scenario on the guest over SSH: a pipe, writes, reads
      const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const p = spawn('node', [CLI, 'run', path.join(ROOT, 'examples', '01-fork-pipe.sqlos'), '--on', 'guest', '--json']);
        let out = '';
        let err = '';
        p.stdout.on('data', (d) => (out += d));
        p.stderr.on('data', (d) => (err += d));
        p.on('exit', (code) => resolve({ code, out, err }));
      });
      const stop = (await stopped!) as DebugProtocol.StoppedEvent;
      assert.equal(stop.body.reason, 'breakpoint');
      const frames = (await dc.stackTraceRequest({ threadId: stop.body.threadId! })).body.stackFrames;
      assert.equal(frames[0].name, 'mem_lock');
      assert.equal(frames[0].source?.path, path.join(ROOT, 'kernel-scripts', 'sqliteos', 'vfs.c'), 'the frame shows our file, not the tree\'s copy');
      assert.ok(frames.length > 2 && frames[0].line > 0, JSON.stringify(frames.slice(0, 4)));
      // the Disassembly view: instructions around the frame's address, on x86's boundaries, ours by line
      const pc = frames[0].instructionPointerReference!;
      const dis = (await dc.customRequest('disassemble', { memoryReference: pc, instructionOffset: -4, instructionCount: 10 })).body.instructions as DebugProtocol.DisassembledInstruction[];
      assert.equal(dis.length, 10);
      assert.equal(BigInt(dis[4].address), BigInt(pc), JSON.stringify(dis));
      assert.match(dis[4].symbol ?? '', /^mem_lock\+\d+$/);
      for (let i = 1; i < dis.length; i++) assert.ok(BigInt(dis[i].address) > BigInt(dis[i - 1].address), 'in address order');
      assert.equal(dis[4].location?.path, path.join(ROOT, 'kernel-scripts', 'sqliteos', 'vfs.c'));
      const scopes = (await dc.scopesRequest({ frameId: frames[0].id })).body.scopes;
      const locals = await vars(dc, scopes.find((s) => s.name === 'Locals')!.variablesReference);
      assert.equal(locals.level?.value, '4', `the level asked for: EXCLUSIVE (${JSON.stringify(Object.keys(locals))})`);
      assert.ok(locals.f && locals.f.variablesReference > 0, 'the file handle expands');
      const mine = await vars(dc, scopes.find((s) => s.name === 'SQLiteOS (from memory)')!.variablesReference);
      const writer = /held by (\d+)/.exec(mine['write mutex']?.value ?? '')?.[1];
      assert.ok(writer, `the writer holds the write mutex: ${JSON.stringify(mine)}`);
      assert.match(mine.warning?.value ?? '', new RegExp(`sqlos_db_lock is held by ${writer}`));
      const ev = await snapshot!;
      assert.match(ev.body.text, /^halted at vfs\.c:\d+, mem_lock$/);
      const snap = JSON.parse(ev.body.snapshot) as { locks: { writeMutex: { owner: number } }; processes: { pid: number; comm?: string }[] };
      assert.equal(snap.locks.writeMutex.owner, Number(writer));
      // the writer is the SSH server forking the run's session: the new process's row is its write
      assert.equal(snap.processes.find((p) => p.pid === Number(writer))?.comm, 'dropbear', JSON.stringify(snap.processes));
      // no more stops; continue; the run completes
      await dc.setFunctionBreakpointsRequest({ breakpoints: [] });
      await dc.continueRequest({ threadId: stop.body.threadId! });
      run = await done;
    } finally {
      await dc.disconnectRequest({ terminateDebuggee: false }).catch(() => undefined);
      await dc.stop();
    }
    assert.ok(run, 'the run was started');
    assert.equal(run.code, 0, run.err);
    const j = JSON.parse(run.out);
    assert.equal(j.ok, true, run.out.slice(0, 400));
    // attached: the kernel runs on after the session
    guest('status');
  });
});
