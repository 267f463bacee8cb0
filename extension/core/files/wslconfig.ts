/*
 * %UserProfile%\.wslconfig edited as a person would: `kernel=` set under [wsl2] and nothing else touched
 * (other keys, comments, blank lines, CRLF line ends, a UTF-8 BOM stay as they were). The value is a
 * Windows path with its backslashes doubled, as Microsoft's documentation writes it.
 */
export interface WslConfigEdit {
  text: string;
  /** False when kernel= already named this image. */
  changed: boolean;
  /** The line replaced (undefined when one was added), and the line now there. */
  before?: string;
  after: string;
}

const SECTION = /^\s*\[([^\]]*)\]\s*$/;
const KERNEL = /^(\s*kernel\s*=\s*)(.*?)(\s*)$/i;

/** C:\Users\me\k → C:\\Users\\me\\k (a path already doubled stays as it is). */
export function wslConfigPath(windowsPath: string): string {
  return windowsPath.replace(/\\\\/g, '\\').replace(/\\/g, '\\\\');
}

export function setWslKernel(original: string | undefined, windowsPath: string): WslConfigEdit {
  const value = wslConfigPath(windowsPath);
  const after = `kernel=${value}`;
  if (original === undefined || original.replace(/^\uFEFF/, '').trim() === '') {
    // A new file for Windows: CRLF, no BOM (WSL reads either).
    const bom = original?.startsWith('\uFEFF') ? '\uFEFF' : '';
    return { text: `${bom}[wsl2]\r\n${after}\r\n`, changed: true, after };
  }
  const bom = original.startsWith('\uFEFF') ? '\uFEFF' : '';
  const body = bom ? original.slice(1) : original;
  const eol = body.includes('\r\n') ? '\r\n' : '\n';
  const lines = body.split(/\r?\n/);
  const endsWithEol = lines.length > 1 && lines[lines.length - 1] === '';
  if (endsWithEol) lines.pop();

  let inWsl2 = false;
  let sectionStart = -1;
  let sectionEnd = -1; // the last non-blank line of [wsl2]
  for (let i = 0; i < lines.length; i++) {
    const s = SECTION.exec(lines[i]);
    if (s) {
      if (inWsl2) break;
      inWsl2 = s[1].trim().toLowerCase() === 'wsl2';
      if (inWsl2) sectionStart = sectionEnd = i;
      continue;
    }
    if (!inWsl2) continue;
    const k = KERNEL.exec(lines[i]);
    if (k) {
      const before = lines[i];
      if (k[2] === value) return { text: original, changed: false, before, after: before };
      lines[i] = `${k[1]}${value}${k[3]}`;
      return { text: bom + lines.join(eol) + (endsWithEol ? eol : ''), changed: true, before, after: lines[i] };
    }
    if (lines[i].trim() !== '') sectionEnd = i;
  }
  if (sectionStart >= 0) lines.splice(sectionEnd + 1, 0, after);
  else {
    if (lines.length && lines[lines.length - 1].trim() !== '') lines.push('');
    lines.push('[wsl2]', after);
  }
  return { text: bom + lines.join(eol) + eol, changed: true, after };
}
