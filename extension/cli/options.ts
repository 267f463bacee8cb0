/*
 * The command line's options, one table per command: Node's util.parseArgs reads them (strict: an
 * unknown option, a missing value or a value that looks like an option is an error), small validators
 * turn values into numbers and choices, and the usage text is written from the same tables, so what
 * `--help` shows is what the parser takes. Every mistake is a UsageError naming the command.
 */
import { parseArgs } from 'util';

/** A mistake on the command line: `sqliteos CMD: MESSAGE`, then the usage, exit 2. */
export class UsageError extends Error {
  constructor(
    message: string,
    /** The command it is about ("run", "kernel build"), if known: its usage is shown. */
    readonly command?: string,
  ) {
    super(message);
  }
}

/** Reads a value given as text; throws UsageError's message text (the flag is added by the caller). */
export type Check = (raw: string) => unknown;

export interface Opt {
  /** A flag (boolean) or an option with a value; `multiple` collects every use. */
  kind: 'flag' | 'value';
  multiple?: boolean;
  /** The value's name in the usage (FILE, N); a choice's list is shown from its check. */
  value?: string;
  check?: Check;
}

/** One way to call a command: its arguments and the options it takes, with what it does. */
export interface Form {
  args?: string;
  options: string[];
  about?: string;
}

export interface CommandSpec {
  /** As typed: "run", "bench pipes", "kernel build". */
  name: string;
  options: Record<string, Opt>;
  forms: Form[];
  /** How many positional arguments it takes (after the command's own words). */
  positionals: [min: number, max: number];
  /** What the positionals are, for the message when they are wrong ("a scenario FILE"). */
  positionalName?: string;
  /** Options it cannot do without (shown in the form's args, not as [--x]). */
  required?: string[];
}

const CHOICES = Symbol('choices');

/** A whole number from min to max. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): Check {
  return (raw) => {
    const x = Number(raw);
    if (raw.trim() === '' || !Number.isInteger(x) || x < min || x > max) {
      throw new Error(max === Number.MAX_SAFE_INTEGER ? `expected a whole number${min > 0 ? ` from ${min}` : ''}` : `expected a whole number from ${min} to ${max}`);
    }
    return x;
  };
}

/** One of a list (what: "profile", "lock policy"). */
export function oneOf<T extends string>(list: readonly T[], what: string): Check {
  const check = (raw: string): T => {
    if (!(list as readonly string[]).includes(raw)) throw new Error(`unknown ${what} '${raw}' (${list.join(' | ')})`);
    return raw as T;
  };
  return Object.assign(check, { [CHOICES]: list });
}

function placeholder(o: Opt): string {
  const choices = (o.check as { [CHOICES]?: readonly string[] } | undefined)?.[CHOICES];
  return choices ? choices.join('|') : (o.value ?? 'VALUE');
}

export interface Parsed {
  values: Record<string, unknown>;
  positionals: string[];
}

/** Reads argv (the words after the command's own) by the command's table. */
export function parseCommand(spec: CommandSpec, argv: string[]): Parsed {
  const options = Object.fromEntries(Object.entries(spec.options).map(([k, o]) => [k, { type: o.kind === 'flag' ? ('boolean' as const) : ('string' as const), multiple: o.multiple ?? false }]));
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    throw new UsageError(argsMessage(e as Error & { code?: string }), spec.name);
  }
  const values: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parsed.values)) {
    const check = spec.options[k].check;
    try {
      values[k] = check ? (Array.isArray(v) ? v.map((x: string) => check(x)) : check(v as string)) : v;
    } catch (e) {
      throw new UsageError(`--${k}: ${(e as Error).message}`, spec.name);
    }
  }
  for (const r of spec.required ?? []) if (values[r] === undefined) throw new UsageError(`--${r} ${placeholder(spec.options[r])} is required`, spec.name);
  const [min, max] = spec.positionals;
  const p = parsed.positionals;
  if (p.length > max) throw new UsageError(`unexpected argument '${p[max]}'`, spec.name);
  if (p.length < min) throw new UsageError(`which ${spec.positionalName ?? 'argument'}?`, spec.name);
  return { values, positionals: p };
}

/** util.parseArgs's messages, shortened to what the user typed wrong. */
function argsMessage(e: Error & { code?: string }): string {
  const flag = /'(-[^' ]+)/.exec(e.message)?.[1] ?? '';
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${flag}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing|ambiguous/.test(e.message) ? `${flag} needs a value` : `${flag} takes no value`;
    default:
      return e.message;
  }
}

const WIDTH = 110;
const ABOUT_INDENT = ' '.repeat(33);

/** The command's forms as usage lines, wrapped to WIDTH, each followed by what it does. */
export function usageOf(spec: CommandSpec): string {
  const lines: string[] = [];
  for (const f of spec.forms) {
    const words = [`sqliteos ${spec.name}`, ...(f.args ? [f.args] : []), ...f.options.map((name) => {
      const o = spec.options[name];
      return `[--${name}${o.kind === 'value' ? ` ${placeholder(o)}` : ''}]${o.multiple ? '...' : ''}`;
    })];
    let line = ' ';
    for (const w of words) {
      if (line.length + w.length + 1 > WIDTH && line.trim()) {
        lines.push(line);
        line = ' '.repeat(24);
      }
      line += ` ${w}`;
    }
    lines.push(line);
    if (f.about) for (const a of f.about.split('\n')) lines.push(`${ABOUT_INDENT}${a}`);
  }
  return lines.join('\n');
}
