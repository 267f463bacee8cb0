/*
 * Where to connect: a destination as the user writes it (`user@host[:port]`, `ssh://user@host:port`, or a
 * Host of ~/.ssh/config) resolved into host, port, user, identity files and jump hosts, the way OpenSSH
 * resolves it. Parsing and Host matching are the npm `ssh-config` package's; Include (which it does not
 * do) is expanded here, in place, relative to ~/.ssh as ssh_config(5) says. `Match exec` is never run.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import SSHConfig from 'ssh-config';

export interface Destination {
  /** What the user typed or picked, for messages. */
  name: string;
  host: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** UserKnownHostsFile from the config, if it names one (else ~/.ssh/known_hosts). */
  knownHostsFile?: string;
  /** Jump hosts in order (ProxyJump), each resolved the same way. */
  jumps: Destination[];
  /** Where each value came from, for the Target view ("~/.ssh/config line 3"). */
  source: string;
}

export class DestinationError extends Error {}

export interface ConfigSource {
  /** ~/.ssh/config's path (tests pass their own). */
  file: string;
  home: string;
  /** The current user's name, used when nothing names one. */
  localUser: string;
}

export function defaultConfigSource(): ConfigSource {
  const home = os.homedir();
  return { file: path.join(home, '.ssh', 'config'), home, localUser: os.userInfo().username };
}

function expandHome(p: string, home: string): string {
  return p === '~' ? home : p.startsWith('~/') ? path.join(home, p.slice(2)) : p;
}

/** One path segment's glob (`*`, `?`) as a regular expression. */
function globPart(seg: string): RegExp {
  return new RegExp(`^${seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

function globFiles(pattern: string): string[] {
  const dir = path.dirname(pattern);
  const base = path.basename(pattern);
  if (!/[*?]/.test(base)) return fs.existsSync(pattern) ? [pattern] : [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => globPart(base).test(n)).sort().map((n) => path.join(dir, n));
}

/** The config text with every Include replaced by the files it names (depth-limited, as OpenSSH does). */
export function expandIncludes(file: string, home: string, depth = 0): string {
  if (depth > 16) throw new DestinationError(`${file}: Include nested more than 16 deep`);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (depth === 0 && (e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new DestinationError(`${file}: ${(e as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((line) => {
      const m = /^\s*include\s+(.+?)\s*$/i.exec(line);
      if (!m) return line;
      return m[1]
        .split(/\s+/)
        .flatMap((p) => {
          const abs = expandHome(p.replace(/^"|"$/g, ''), home);
          return globFiles(path.isAbsolute(abs) ? abs : path.join(home, '.ssh', abs));
        })
        .map((f) => expandIncludes(f, home, depth + 1))
        .join('\n');
    })
    .join('\n');
}

/** `user@host:port`, `host:port`, `[::1]:22`, `ssh://user@host:port`: the parts it names. */
export function parseDestination(s: string): { user?: string; host: string; port?: number } {
  const t = s.trim().replace(/^ssh:\/\//, '');
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:@\s[\]]+)(?::(\d+))?$/.exec(t);
  if (!m) throw new DestinationError(`'${s}' is not a destination: write user@host, user@host:port or a Host of ~/.ssh/config`);
  const port = m[3] === undefined ? undefined : Number(m[3]);
  if (port !== undefined && (port < 1 || port > 65535)) throw new DestinationError(`'${s}': port ${port} is out of range`);
  return { user: m[1], host: m[2].replace(/^\[|\]$/g, ''), port };
}

type Computed = Record<string, string | string[]>;

function first(c: Computed, key: string): string | undefined {
  const v = c[key];
  return Array.isArray(v) ? v[0] : v;
}

/** The Host names of ~/.ssh/config without wildcards: what "Connect to Host…" lists. */
export function configuredHosts(src: ConfigSource = defaultConfigSource()): string[] {
  const text = expandIncludes(src.file, src.home);
  const out = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*host\s+(.+)$/i.exec(line);
    if (m) for (const h of m[1].split(/\s+/)) if (h && !/[*?!]/.test(h)) out.add(h);
  }
  return [...out];
}

/** Resolves what the user typed against ~/.ssh/config, as `ssh DEST` would. */
export function resolveDestination(dest: string, src: ConfigSource = defaultConfigSource(), depth = 0): Destination {
  if (depth > 8) throw new DestinationError(`${dest}: ProxyJump chain longer than 8`);
  const parts = parseDestination(dest);
  const config = SSHConfig.parse(expandIncludes(src.file, src.home));
  const c = config.compute(parts.host, { ignoreCase: true, matchExec: false }) as Computed;
  const host = first(c, 'hostname')?.replace(/%h/g, parts.host) ?? parts.host;
  const portText = parts.port ?? first(c, 'port');
  const port = portText === undefined ? 22 : Number(portText);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new DestinationError(`${dest}: Port ${portText} in ${src.file} is not a port`);
  const user = parts.user ?? first(c, 'user') ?? src.localUser;
  const ids = c.identityfile;
  const identityFiles = (Array.isArray(ids) ? ids : ids ? [ids] : []).map((f) => expandHome(f, src.home));
  const jump = first(c, 'proxyjump');
  const jumps = !jump || jump.toLowerCase() === 'none' ? [] : jump.split(',').map((j) => resolveDestination(j.trim(), src, depth + 1));
  const known = Object.keys(c).length > 0;
  const khf = first(c, 'userknownhostsfile')?.split(/\s+/)[0];
  const knownHostsFile = khf ? expandHome(khf, src.home) : undefined;
  return { name: dest, host, port, user, identityFiles, knownHostsFile, jumps, source: known ? src.file : 'as typed' };
}
