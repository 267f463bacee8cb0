/*
 * Splits one scenario line into tokens with their columns. Strings and hex literals are decoded here so the
 * parser sees bytes; a malformed literal is an error at its own column.
 */

export type Token =
  | { t: 'word'; v: string; col: number }
  | { t: 'int'; v: number; raw: string; col: number }
  | { t: 'string'; v: string; bytes: Uint8Array; raw: string; col: number }
  | { t: 'hex'; bytes: Uint8Array; raw: string; col: number }
  | { t: 'eq'; col: number };

export class LexError extends Error {
  constructor(
    message: string,
    readonly col: number,
  ) {
    super(message);
  }
}

const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, '"': 34 };

/**
 * Tokens of one line; `#` outside a string starts a comment. Columns are 1-based; `end` is where the code
 * stops (the comment's start, or the line's end).
 */
export function tokenize(line: string): { tokens: Token[]; end: number } {
  const out: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
    } else if (c === '#') {
      return { tokens: out, end: i };
    } else if (c === '"') {
      const s = readString(line, i);
      out.push({ t: 'string', v: s.text, bytes: s.bytes, raw: line.slice(i, s.end), col: i + 1 });
      i = s.end;
    } else if ((c === 'x' || c === 'X') && line[i + 1] === '"') {
      const end = line.indexOf('"', i + 2);
      if (end < 0) throw new LexError('unterminated hex literal: expected a closing "', i + 1);
      const body = line.slice(i + 2, end);
      const bad = body.search(/[^0-9a-fA-F]/);
      if (bad >= 0) throw new LexError(`not a hex digit: '${body[bad]}'`, i + 3 + bad);
      if (body.length % 2) throw new LexError('hex literal has an odd number of digits', i + 1);
      const bytes = new Uint8Array(body.length / 2);
      for (let k = 0; k < bytes.length; k++) bytes[k] = parseInt(body.slice(2 * k, 2 * k + 2), 16);
      out.push({ t: 'hex', bytes, raw: line.slice(i, end + 1), col: i + 1 });
      i = end + 1;
    } else if (c === '=' && line[i + 1] === '=') {
      out.push({ t: 'eq', col: i + 1 });
      i += 2;
    } else if (/[0-9]/.test(c)) {
      const m = /^[0-9]+/.exec(line.slice(i))![0];
      const next = line[i + m.length];
      if (next !== undefined && /[A-Za-z_]/.test(next)) throw new LexError(`malformed number '${m}${next}'`, i + 1);
      out.push({ t: 'int', v: Number(m), raw: m, col: i + 1 });
      i += m.length;
    } else if (/[A-Za-z_@]/.test(c)) {
      // Hyphens join words (the lock policy sqliteos-as-printed); a hyphen before a digit does not.
      const m = /^[@A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*/.exec(line.slice(i))![0];
      out.push({ t: 'word', v: m, col: i + 1 });
      i += m.length;
    } else {
      throw new LexError(`unexpected character '${c}'`, i + 1);
    }
  }
  return { tokens: out, end: line.length };
}

function readString(line: string, start: number): { text: string; bytes: Uint8Array; end: number } {
  const bytes: number[] = [];
  let i = start + 1;
  const enc = new TextEncoder();
  while (i < line.length && line[i] !== '"') {
    if (line[i] === '\\') {
      const e = line[i + 1];
      if (e === 'x') {
        const hh = line.slice(i + 2, i + 4);
        if (!/^[0-9a-fA-F]{2}$/.test(hh)) throw new LexError('\\x needs two hex digits', i + 1);
        bytes.push(parseInt(hh, 16));
        i += 4;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        bytes.push(ESCAPES[e]);
        i += 2;
      } else {
        throw new LexError(`unknown escape '\\${e ?? ''}' (use \\n \\t \\r \\0 \\\\ \\" or \\xHH)`, i + 1);
      }
    } else {
      const cp = line.codePointAt(i)!;
      const ch = String.fromCodePoint(cp);
      bytes.push(...enc.encode(ch));
      i += ch.length;
    }
  }
  if (i >= line.length) throw new LexError('unterminated string: expected a closing "', start + 1);
  const b = Uint8Array.from(bytes);
  return { text: new TextDecoder().decode(b), bytes: b, end: i + 1 };
}
