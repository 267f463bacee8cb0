/*
 * Conditions over the simulator's state, for conditional breakpoints and the debug console:
 * `numReaders > 1`, `currentMaxLock == PENDING && writeQ > 0`, `blocked >= 2`. A tiny, safe grammar:
 * numbers, names, ( ), ! && || and the comparisons == != < <= > >=. Names are the state's figures and
 * the lock levels; anything else is an error that says which names exist.
 */

export type Env = Record<string, number>;

type Tok = { t: 'num'; v: number } | { t: 'id'; v: string } | { t: 'op'; v: string };

const OPS = ['&&', '||', '==', '!=', '<=', '>=', '<', '>', '!', '(', ')'];

function lex(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const num = /^\d+/.exec(src.slice(i));
    if (num) {
      out.push({ t: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ t: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new Error(`unexpected '${c}' at column ${i + 1}`);
    out.push({ t: 'op', v: op });
    i += op.length;
  }
  return out;
}

/** Evaluates `src` against `env`; booleans come back as 1 / 0. */
export function evaluate(src: string, env: Env): number {
  const toks = lex(src);
  let i = 0;
  const peek = () => toks[i];
  const eat = (v: string) => {
    const t = toks[i];
    if (t?.t === 'op' && t.v === v) {
      i++;
      return true;
    }
    return false;
  };
  const primary = (): number => {
    const t = toks[i++];
    if (!t) throw new Error('expression ends too early');
    if (t.t === 'num') return t.v;
    if (t.t === 'id') {
      if (!(t.v in env)) throw new Error(`unknown name '${t.v}' (known: ${Object.keys(env).join(', ')})`);
      return env[t.v];
    }
    if (t.v === '(') {
      const v = or();
      if (!eat(')')) throw new Error("missing ')'");
      return v;
    }
    if (t.v === '!') return primary() ? 0 : 1;
    throw new Error(`unexpected '${t.v}'`);
  };
  const cmp = (): number => {
    const a = primary();
    const t = peek();
    if (t?.t === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.v)) {
      i++;
      const b = primary();
      const r = { '==': a === b, '!=': a !== b, '<': a < b, '<=': a <= b, '>': a > b, '>=': a >= b }[t.v as '=='];
      return r ? 1 : 0;
    }
    return a;
  };
  const and = (): number => {
    let v = cmp();
    while (eat('&&')) v = cmp() && v ? 1 : 0;
    return v;
  };
  const or = (): number => {
    let v = and();
    while (eat('||')) v = and() || v ? 1 : 0;
    return v;
  };
  const v = or();
  if (i < toks.length) throw new Error(`unexpected '${JSON.stringify(toks[i])}' after the expression`);
  return v;
}
