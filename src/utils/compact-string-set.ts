/**
 * A set of strings kept as 64-bit hashes in typed arrays (open addressing), each with a 32-bit value:
 * about 12 bytes a slot instead of ~80 for a JS string in a Set, so a million e-mails fit in ~25 MB.
 * Two different strings sharing a 64-bit hash is possible in theory (about 1 in 10^7 for a million
 * entries) and would make the second look like a duplicate.
 */
export class CompactStringSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private values: Uint32Array;
  private used = 0;

  constructor(initialCapacity = 1 << 12) {
    this.hi = new Uint32Array(initialCapacity);
    this.lo = new Uint32Array(initialCapacity);
    this.values = new Uint32Array(initialCapacity);
  }

  get size(): number {
    return this.used;
  }

  /** Adds `key` with `value`; answers the value stored earlier if the key was already there. */
  addOrGet(key: string, value: number): number | undefined {
    if ((this.used + 1) * 10 > this.hi.length * 7) this.grow();
    const [h1, h2] = hash(key);
    const found = this.place(h1, h2, value);
    if (found === undefined) this.used += 1;
    return found;
  }

  /** Whether `key` (or, rarely, another string with the same hash) was added. */
  has(key: string): boolean {
    const [h1, h2] = hash(key);
    const mask = this.hi.length - 1;
    for (let slot = h2 & mask; ; slot = (slot + 1) & mask) {
      const a = this.hi[slot] ?? 0;
      const b = this.lo[slot] ?? 0;
      if (a === 0 && b === 0) return false;
      if (a === h1 && b === h2) return true;
    }
  }

  private place(h1: number, h2: number, value: number): number | undefined {
    const mask = this.hi.length - 1;
    let slot = h2 & mask;
    for (;;) {
      const a = this.hi[slot] ?? 0;
      const b = this.lo[slot] ?? 0;
      if (a === 0 && b === 0) {
        this.hi[slot] = h1;
        this.lo[slot] = h2;
        this.values[slot] = value;
        return undefined;
      }
      if (a === h1 && b === h2) return this.values[slot];
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const { hi, lo, values } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(hi.length * 2);
    this.values = new Uint32Array(hi.length * 2);
    for (let i = 0; i < hi.length; i += 1) {
      const a = hi[i] ?? 0;
      const b = lo[i] ?? 0;
      if (a !== 0 || b !== 0) this.place(a, b, values[i] ?? 0);
    }
  }
}

/** Two independent 32-bit hashes (FNV-1a and a murmur-style mix); never both zero (zero marks an empty slot). */
function hash(key: string): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < key.length; i += 1) {
    const c = key.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a >>>= 0;
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b = (b ^ (b >>> 16)) >>> 0;
  if (a === 0 && b === 0) b = 1;
  return [a, b];
}
