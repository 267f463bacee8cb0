/*
 * A statement's expectation (`== ...`) held against what it returned: one rule for the simulator's runs
 * and for a kernel's, so both report an unmet one in the same words.
 */
import type { Statement } from './ast';
import { sameBytes, showBytes } from './bytes';

/**
 * Why the statement's result is not what its `==` says, or undefined when it is (or it says nothing).
 * `result`: the return value (negative: an errno); `error`: its text; `data`: a read's bytes.
 */
export function unmetExpectation(s: Statement, result: unknown, error: string | null | undefined, data?: Uint8Array): string | undefined {
  if (!('expect' in s) || !s.expect) return undefined;
  const e = s.expect;
  const got = () => error ?? (data ? `${showBytes(data)} (${data.length} bytes)` : `result ${String(result)}`);
  if (e.kind === 'errno') return result === e.code ? undefined : `${s.op} expected ${e.name}, got ${got()}`;
  if (e.kind === 'result') return result === e.n ? undefined : `${s.op} expected ${s.op === 'write' ? `${e.n} bytes written` : e.n}, got ${got()}`;
  if (!data || (typeof result === 'number' && result < 0)) return `read expected ${e.source}, got ${got()}`;
  if (!sameBytes(data, e.bytes)) return `read expected ${showBytes(e.bytes)} (${e.bytes.length} bytes), got ${showBytes(data)} (${data.length} bytes)`;
  return undefined;
}
