/* The default schedule's priority queue: lowest key first, whatever the order of pushes. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MinHeap } from '../../extension/core/scenario/heap';

describe('MinHeap', () => {
  it('pops in key order and peeks without popping', () => {
    const h = new MinHeap();
    const keys = [9, 3, 7, 1, 8, 2, 2, 6, 5, 4];
    keys.forEach((k, i) => h.push(k, i));
    assert.deepEqual(h.peek(), [1, 3]);
    const out: number[] = [];
    while (h.size) out.push(h.pop()![0]);
    assert.deepEqual(out, [...keys].sort((a, b) => a - b));
    assert.equal(h.pop(), undefined);
  });
});
