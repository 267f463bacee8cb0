/*
 * Host keys as OpenSSH checks them: known_hosts lines (plain names, patterns with `*` `?` `!`, hashed
 * `|1|salt|hash` entries, `[host]:port` for ports other than 22, @revoked, @cert-authority skipped), the
 * verdict for a presented key (known, unknown, changed: with the file and line that disagrees), the SHA256
 * fingerprint shown to the user, and the line appended once the user trusts a key. No code path here ever
 * says yes to a key the files do not hold.
 */
import { createHash, createHmac, randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

export type HostKeyVerdict =
  | { kind: 'known'; file: string; line: number }
  | { kind: 'unknown' }
  | { kind: 'changed'; file: string; line: number; knownType: string }
  | { kind: 'revoked'; file: string; line: number };

/** The name known_hosts uses: `host`, or `[host]:port` off port 22. */
export function hostKeyName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** OpenSSH's fingerprint: "SHA256:" + unpadded base64 of the SHA-256 of the key blob. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type inside an SSH public key blob (its first string field). */
export function keyType(key: Buffer): string {
  if (key.length < 4) return 'unknown';
  const n = key.readUInt32BE(0);
  return n > 0 && n < 64 && key.length >= 4 + n ? key.subarray(4, 4 + n).toString('latin1') : 'unknown';
}

function patternMatches(pattern: string, name: string): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(name);
}

/** Whether a known_hosts host field (comma list, negations, or one hashed entry) names `name`. */
export function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const h = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return h === hash;
  }
  let matched = false;
  for (const p of field.split(',')) {
    if (p.startsWith('!')) {
      if (patternMatches(p.slice(1), name)) return false;
    } else if (patternMatches(p, name)) matched = true;
  }
  return matched;
}

interface Entry {
  file: string;
  line: number;
  marker: '' | '@revoked' | '@cert-authority';
  hosts: string;
  type: string;
  key: Buffer;
}

function entries(file: string): Entry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: Entry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const l = raw.trim();
    if (!l || l.startsWith('#')) return;
    const f = l.split(/\s+/);
    const marker = f[0] === '@revoked' || f[0] === '@cert-authority' ? (f.shift() as Entry['marker']) : '';
    if (f.length < 3) return;
    out.push({ file, line: i + 1, marker, hosts: f[0], type: f[1], key: Buffer.from(f[2], 'base64') });
  });
  return out;
}

/**
 * The verdict for `key` presented by host:port, read from `files` in order (user file first). Any line
 * naming the host with the same key type and another key makes it `changed` even if another line agrees,
 * as OpenSSH does; a revoked key is refused whatever else the files say.
 */
export function checkHostKey(files: string[], host: string, port: number, key: Buffer): HostKeyVerdict {
  const name = hostKeyName(host, port);
  const type = keyType(key);
  let known: HostKeyVerdict | undefined;
  let changed: HostKeyVerdict | undefined;
  for (const file of files) {
    for (const e of entries(file)) {
      if (e.marker === '@revoked') {
        if (e.key.equals(key)) return { kind: 'revoked', file, line: e.line };
        continue;
      }
      if (e.marker === '@cert-authority' || !hostFieldMatches(e.hosts, name)) continue;
      if (e.key.equals(key)) known ??= { kind: 'known', file, line: e.line };
      else if (e.type === type) changed ??= { kind: 'changed', file, line: e.line, knownType: e.type };
    }
  }
  return changed ?? known ?? { kind: 'unknown' };
}

/** Appends a trusted key, hashed as `HashKnownHosts yes` writes it when `hash` is set. */
export function addHostKey(file: string, host: string, port: number, key: Buffer, hash = false): void {
  const name = hostKeyName(host, port);
  let field = name;
  if (hash) {
    const salt = randomBytes(20);
    field = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const old = fs.readFileSync(file, 'utf8');
    if (old.length > 0 && !old.endsWith('\n')) prefix = '\n';
  } catch {
    // a new file
  }
  fs.appendFileSync(file, `${prefix}${field} ${keyType(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}
