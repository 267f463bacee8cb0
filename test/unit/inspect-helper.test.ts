/*
 * sqliteos-inspect on hostile input: a debugfs directory (--debugfs DIR) whose column names, texts and
 * blobs are not what the kernel writes must still give valid JSON that shows them as they are: quotes
 * and control bytes escaped, a blob whose hex is not hex shown as text, an escape cut short at the end
 * of a value not read past. The helper is compiled here from kernel-scripts/tools with gcc.
 */
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ROOT } from './helpers';

const HEAD = (name: string) => `sqliteos-debugfs 1 ${name}\n`;

describe('sqliteos-inspect (the JSON helper)', () => {
  let bin = '';
  let dir = '';
  before(() => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'inspect-'));
    bin = path.join(tmp, 'sqliteos-inspect');
    execFileSync('gcc', ['-O2', '-Wall', '-Werror', '-o', bin, path.join(ROOT, 'kernel-scripts/tools/sqliteos-inspect.c')]);
    dir = path.join(tmp, 'debugfs');
    fs.mkdirSync(dir);
    const files: Record<string, string> = {
      // This test's own process, and a pid nobody has.
      pid_store: `columns\tpid\tparent_id\nrow\t1\t1\nrow\t${process.pid}\t1\nrow\t4194999\t1\nrows\t3\n`,
      pid_pipe: 'columns\tpid\tfd"\\\nrow\t"a\\"b\\x0a\\x"\t3\nrow\t"ends in \\x"\t"\\x4"\nrows\t2\n',
      pipe_data: 'columns\tdataId\tdata\nrow\t1\tx2:zz"}\nrow\t2\tx2:6869\nrow\t3\tx40:6869/0123456789abcdef\nrow\t4\tx2:6869/0123"}\nrows\t4\n',
      pipe_chunk: 'columns\tseq\tdataId\tdata\nrows\t0\n',
      locks: 'store\t/sqliteos\tcurrent_max_lock\tNONE\tnum_readers\t0\nwrite_mutex\t0\tdepth\t0\n',
      queues: 'queue\twrite_mutex\n',
      pipes: '',
      counters: 'sleeps\t0\n',
    };
    for (const [name, body] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), HEAD(name) + body);
  });

  it('gives valid JSON for hostile names and values, each shown as it is', () => {
    const out = execFileSync(bin, ['--debugfs', dir], { encoding: 'utf8' });
    const j = JSON.parse(out) as { tables: Record<string, { columns: string[]; rows: unknown[][] }> };
    assert.deepEqual(j.tables.pid_pipe.columns, ['pid', 'fd"\\']);
    assert.deepEqual(j.tables.pid_pipe.rows[0], ['a"b\nx', 3], 'a \\x with no hex digits after it is the letter x');
    assert.deepEqual(j.tables.pid_pipe.rows[1], ['ends in x', 'x4'], 'an escape cut short at the end is not read past');
    assert.deepEqual(j.tables.pipe_data.rows[0], [1, 'x2:zz"}'], 'a blob whose hex is not hex is text');
    assert.deepEqual(j.tables.pipe_data.rows[1], [2, { blob: 2, hex: '6869' }]);
    assert.deepEqual(j.tables.pipe_data.rows[2], [3, { blob: 40, hex: '6869', digest: '0123456789abcdef' }], "a blob's digest of every byte, where the kernel sends one");
    assert.deepEqual(j.tables.pipe_data.rows[3], [4, 'x2:6869/0123"}'], 'a digest that is not 16 hex digits makes it text');
  });

  it("names pid_store's processes by their command names and marks the companion's own: the helper's chain up to its session", () => {
    const j = JSON.parse(execFileSync(bin, ['--debugfs', dir], { encoding: 'utf8' })) as { names: { comm: [number, string][]; own: number[] } };
    const comm = new Map(j.names.comm);
    assert.equal(comm.get(process.pid), fs.readFileSync(`/proc/${process.pid}/comm`, 'utf8').trim());
    assert.equal(comm.has(4194999), false, 'a pid with no process has no name');
    // Of pid_store's processes, this test's (it ran the helper: in the helper's chain) is the companion's own, init is not.
    assert.deepEqual(j.names.own, [process.pid]);
  });
});
