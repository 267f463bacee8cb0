/* A binary min-heap of [key, value] pairs: the default schedule's "lowest next line first" in O(log n). */
export class MinHeap {
  private a: [number, number][] = [];

  get size(): number {
    return this.a.length;
  }

  push(key: number, value: number): void {
    const a = this.a;
    a.push([key, value]);
    let i = a.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (a[up][0] <= a[i][0]) break;
      [a[up], a[i]] = [a[i], a[up]];
      i = up;
    }
  }

  peek(): [number, number] | undefined {
    return this.a[0];
  }

  pop(): [number, number] | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l][0] < a[m][0]) m = l;
        if (r < a.length && a[r][0] < a[m][0]) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }

  clear(): void {
    this.a = [];
  }
}
