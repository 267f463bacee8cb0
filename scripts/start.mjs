// npm start: until the VS Code extension lands, run an example scenario with the CLI so a newcomer sees
// the simulator at work.
import { spawnSync } from 'child_process';
import { dirname, join } from 'path';
import { fileURLToPath } from 'url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
console.log('The VS Code extension is not in this build yet; running an example on the simulator instead.\n');
const r = spawnSync(process.execPath, [join(root, 'bin/sqliteos.js'), 'run', join(root, 'examples/08-pending-writer.sqlos')], { stdio: 'inherit' });
process.exitCode = r.status ?? 1;
