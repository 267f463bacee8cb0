// After `npm run package`: the .vsix's size against the 5 MB goal, and what is inside it.
import { statSync } from 'fs';
import { execFileSync } from 'child_process';
const file = 'dist-vsix/sqliteos-companion.vsix';
const bytes = statSync(file).size;
console.log(`${file}: ${(bytes / 1e6).toFixed(2)} MB (goal < 5 MB: ${bytes < 5e6 ? 'met' : 'NOT met'})`);
console.log(execFileSync('unzip', ['-l', file], { encoding: 'utf8' }));
