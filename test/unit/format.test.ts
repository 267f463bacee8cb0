/* How values read to a person: kernel addresses as hex, blobs known only by their head, big integers. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { preview, previewIn, rowDocument, textTable, toCsv, toJson } from '../../extension/core/format';

describe('value formats', () => {
  it('shows the published kernel\'s wait-queue addresses as the kernel prints pointers', () => {
    assert.equal(previewIn('read_wq', -131941329305536), '0xffff880003ef8040 (kernel address)');
    assert.equal(previewIn('read_wq', 3), '3', 'the companion kernel\'s queue ids stay numbers');
    assert.equal(previewIn('pid', -1), '-1');
  });

  it('never passes the head of a kernel blob off as the whole value', () => {
    const head = { blob: 100, hex: '68656c6c6f' };
    assert.match(preview(head), /^blob 100 B: 68 65 6c 6c 6f …/);
    assert.equal(toCsv(['data'], [[head]]), "data\r\nx'68656c6c6f'... (100 bytes)\r\n");
    assert.deepEqual(JSON.parse(toJson(['data'], [[head]])), [{ data: { hex: '68656c6c6f', length: 100 } }]);
    assert.match(rowDocument('pipe_chunk', ['#', 'data'], [1, head]), /data \(100 bytes, the first 5 shown: the kernel sends no more\)/);
  });

  it('writes integers past 2^53 exactly', () => {
    assert.equal(toCsv(['seq'], [[9007199254740993n]]), 'seq\r\n9007199254740993\r\n');
    assert.equal(JSON.parse(toJson(['seq'], [[1n]]))[0].seq, 1);
    assert.match(toJson(['seq'], [[9007199254740993n]]), /"seq": 9007199254740993/);
  });

  it('prints query results whole: long text uncut, and multi-line text (a CREATE TABLE) as readable blocks', () => {
    const long = 'x'.repeat(100);
    assert.ok(textTable(['t'], [[long]]).includes(long), 'not cut at 64 characters');
    const ddl = 'CREATE TABLE pid_store(\n  pid INT PRIMARY KEY NOT NULL,\n  parent_id INT NOT NULL)';
    const out = textTable(['name', 'sql'], [['pid_store', ddl]]);
    assert.match(out, /^-\[ row 1 \]\nname = pid_store\nsql  = CREATE TABLE pid_store\(\n {9}pid INT PRIMARY KEY NOT NULL,\n/);
    assert.match(out, /1 row\(s\)\n$/);
  });

  it('lists a row\'s key once, in the title', () => {
    const doc = rowDocument('pipe_data', ['rowid', 'dataId', 'data'], [1, 1, null]);
    assert.match(doc, /^pipe_data row 1\n\ndataId +1\n|^pipe_data row 1\n\ndataId += 1\n/);
    assert.equal((doc.match(/rowid/g) ?? []).length, 0);
  });
});
