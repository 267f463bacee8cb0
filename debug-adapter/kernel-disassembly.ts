/*
 * The DAP's disassemble request over gdb: exactly `count` instructions from `offset` instructions before
 * or after an address, on x86's variable-length boundaries. gdb disassembles whole functions
 * (`-data-disassemble -a`), so every boundary is right: the window is filled function by function before
 * and after the one holding the address; where no function is (padding between them, data), the rest are
 * placeholders marked invalid, as the protocol asks.
 */
import type { DebugProtocol } from '@vscode/debugprotocol';
import { MiTuple, miList, miString, miTuple } from '../extension/core/gdb/mi';

interface Insn {
  address: bigint;
  text: string;
  /** "mem_lock+24" */
  symbol?: string;
  /** raw bytes as gdb prints them: "48 89 e5" */
  bytes: string;
  file?: string;
  line?: number;
}

type Command = (cmd: string) => Promise<MiTuple>;

const size = (i: Insn) => BigInt(i.bytes.split(/\s+/).filter(Boolean).length || 1);

/** The function holding `addr`, each instruction with its source line (mode 5: source-centric, raw opcodes); undefined where no function is. */
async function functionAt(gdb: Command, addr: bigint): Promise<Insn[] | undefined> {
  let r: MiTuple;
  try {
    r = await gdb(`-data-disassemble -a 0x${addr.toString(16)} -- 5`);
  } catch {
    return undefined;
  }
  const out: Insn[] = [];
  const one = (t: MiTuple, file?: string, line?: number) => {
    const func = miString(t['func-name']);
    out.push({ address: BigInt(String(t.address)), text: String(t.inst ?? ''), symbol: func && `${func}+${String(t.offset ?? 0)}`, bytes: String(t.opcodes ?? ''), file, line });
  };
  for (const v of miList(r.asm_insns)) {
    const t = miTuple(v);
    // mode 5 groups instructions under their source line; a function without line info lists them bare
    if (t.line_asm_insn) for (const i of miList(t.line_asm_insn)) one(miTuple(i), miString(t.fullname), Number(t.line) || undefined);
    else one(t);
  }
  // source-centric: grouped by line, not in address order
  out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return out.length ? out : undefined;
}

export async function disassemble(
  gdb: Command,
  at: bigint,
  offset: number,
  count: number,
  source: (file: string) => DebugProtocol.Source,
): Promise<DebugProtocol.DisassembledInstruction[]> {
  let insns = (await functionAt(gdb, at)) ?? [];
  let here = insns.findIndex((i) => i.address >= at);
  if (here < 0) here = insns.length;
  // at most 64 functions either way: a window of a few hundred instructions never needs more
  for (let n = 0; insns.length && here + offset < 0 && n < 64; n++) {
    const before = await functionAt(gdb, insns[0].address - 1n);
    if (!before) break;
    insns = before.concat(insns);
    here += before.length;
  }
  for (let n = 0; insns.length && here + offset + count > insns.length && n < 64; n++) {
    const last = insns[insns.length - 1];
    const after = await functionAt(gdb, last.address + size(last));
    if (!after) break;
    insns = insns.concat(after);
  }
  const first = insns[0]?.address ?? at;
  const end = insns.length ? insns[insns.length - 1].address + size(insns[insns.length - 1]) : at;
  const out: DebugProtocol.DisassembledInstruction[] = [];
  for (let k = 0; k < count; k++) {
    const j = here + offset + k;
    const i = insns[j];
    if (!i) {
      // a placeholder's address only has to be unique and in order: a byte apart, outside what is known
      const address = j < 0 ? first - BigInt(-j) : end + BigInt(j - insns.length);
      out.push({ address: `0x${address.toString(16)}`, instruction: '(no function here)', presentationHint: 'invalid' });
      continue;
    }
    const d: DebugProtocol.DisassembledInstruction = { address: `0x${i.address.toString(16)}`, instruction: i.text, instructionBytes: i.bytes, symbol: i.symbol };
    if (i.file && i.line) {
      d.location = source(i.file);
      d.line = i.line;
    }
    out.push(d);
  }
  return out;
}
