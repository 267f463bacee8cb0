/*
 * GDB/MI output, parsed (GDB manual, "GDB/MI Output Syntax"): one line is a result record
 * (`TOKEN^done,...`), an async record (`*stopped,...` exec, `+...` status, `=...` notify), a stream
 * record (`~"console"`, `@"target"`, `&"log"`) or the prompt `(gdb)`. Values are C strings, tuples
 * `{a=...}` and lists `[...]` (of values, or of results whose names repeat: `[frame={...},frame={...}]`,
 * kept as the list of their values). Pure: the process that speaks it is machines/gdb-mi.ts.
 */
export type MiValue = string | MiTuple | MiValue[];
export interface MiTuple {
  [name: string]: MiValue;
}

export type MiRecord =
  | { kind: 'result'; token?: number; class: string; results: MiTuple }
  | { kind: 'exec' | 'status' | 'notify'; token?: number; class: string; results: MiTuple }
  | { kind: 'console' | 'target' | 'log'; text: string }
  | { kind: 'prompt' };

export class MiParseError extends Error {}

const ASYNC: Record<string, 'exec' | 'status' | 'notify'> = { '*': 'exec', '+': 'status', '=': 'notify' };
const STREAM: Record<string, 'console' | 'target' | 'log'> = { '~': 'console', '@': 'target', '&': 'log' };

export function parseMiLine(line: string): MiRecord {
  const text = line.replace(/\r$/, '');
  if (/^\(gdb\)\s*$/.test(text)) return { kind: 'prompt' };
  const p = new Cursor(text);
  const first = text[0];
  if (first in STREAM) {
    p.i = 1;
    return { kind: STREAM[first], text: p.cstring() };
  }
  const digits = /^\d*/.exec(text)![0];
  p.i = digits.length;
  const token = digits ? Number(digits) : undefined;
  const mark = p.next();
  const cls = p.word();
  const results = p.results();
  if (p.i !== text.length) p.fail('end of line');
  if (mark === '^') return { kind: 'result', token, class: cls, results };
  if (mark in ASYNC) return { kind: ASYNC[mark], token, class: cls, results };
  return p.fail('^, *, +, =, ~, @ or &');
}

class Cursor {
  i = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new MiParseError(`GDB/MI: expected ${what} at column ${this.i + 1} of ${JSON.stringify(this.s.slice(0, 120))}`);
  }

  next(): string {
    if (this.i >= this.s.length) this.fail('more');
    return this.s[this.i++];
  }

  word(): string {
    const m = /^[A-Za-z0-9_-]*/.exec(this.s.slice(this.i))![0];
    this.i += m.length;
    return m;
  }

  /** ( "," result )* */
  results(): MiTuple {
    const out: MiTuple = {};
    while (this.s[this.i] === ',') {
      this.i++;
      const [k, v] = this.result();
      out[k] = v;
    }
    return out;
  }

  result(): [string, MiValue] {
    const k = this.word();
    if (!k || this.next() !== '=') this.fail('name=value');
    return [k, this.value()];
  }

  value(): MiValue {
    const c = this.s[this.i];
    if (c === '"') return this.cstring();
    if (c === '{') {
      this.i++;
      const out: MiTuple = {};
      if (this.s[this.i] === '}') return (this.i++, out);
      for (;;) {
        const [k, v] = this.result();
        out[k] = v;
        const d = this.next();
        if (d === '}') return out;
        if (d !== ',') this.fail(', or }');
      }
    }
    if (c === '[') {
      this.i++;
      const out: MiValue[] = [];
      if (this.s[this.i] === ']') return (this.i++, out);
      for (;;) {
        // a list of results (name=value) keeps the values
        out.push(/^[A-Za-z_][A-Za-z0-9_-]*=/.test(this.s.slice(this.i, this.i + 64)) ? this.result()[1] : this.value());
        const d = this.next();
        if (d === ']') return out;
        if (d !== ',') this.fail(', or ]');
      }
    }
    return this.fail('a value ("...", {...} or [...])');
  }

  cstring(): string {
    if (this.next() !== '"') this.fail('"');
    let out = '';
    for (;;) {
      const c = this.next();
      if (c === '"') return out;
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.next();
      const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', a: '\x07', b: '\b', f: '\f', v: '\v', e: '\x1b' };
      if (e in simple) out += simple[e];
      else if (/[0-7]/.test(e)) {
        let oct = e;
        while (oct.length < 3 && /[0-7]/.test(this.s[this.i] ?? '')) oct += this.next();
        out += String.fromCharCode(parseInt(oct, 8));
      } else out += e;
    }
  }
}

/** A C string for a GDB/MI command argument. */
export function miQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

export function miString(v: MiValue | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function miTuple(v: MiValue | undefined): MiTuple {
  return v && typeof v === 'object' && !Array.isArray(v) ? v : {};
}

export function miList(v: MiValue | undefined): MiValue[] {
  return Array.isArray(v) ? v : [];
}
