const SHARD_BITS = 8;
const SHARDS = 1 << SHARD_BITS;

/** One open-addressing table: 16 + 32 bits of a key's hash, and its 32-bit value, per slot. */
interface Shard {
  hi: Uint16Array;
  lo: Uint32Array;
  values: Uint32Array;
  used: number;
}

function newShard(capacity: number): Shard {
  return { hi: new Uint16Array(capacity), lo: new Uint32Array(capacity), values: new Uint32Array(capacity), used: 0 };
}

/**
 * A set of strings kept as 56-bit hashes in typed arrays (outside the V8 heap), each with a 32-bit value:
 * 10 bytes a slot instead of ~80 for a JS string in a Set, so a million e-mails take about 20 MB. The table
 * is split into 256 shards by 8 bits of the hash, each growing on its own, so a resize copies 1/256 of the
 * set instead of briefly holding the whole old and new tables. Two different strings sharing a 56-bit hash
 * is possible in theory (about 1 in 10^5 for a million entries) and would make the second look like the first.
 */
export class CompactStringSet {
  private readonly shards: Shard[];

  /** `initialCapacity`: slots to start with, across all shards. */
  constructor(initialCapacity = 1 << 12) {
    const perShard = Math.max(8, 2 ** Math.ceil(Math.log2(Math.max(1, initialCapacity / SHARDS))));
    this.shards = Array.from({ length: SHARDS }, () => newShard(perShard));
  }

  private shardAt(index: number): Shard {
    const shard = this.shards[index];
    if (!shard) throw new RangeError(`no shard ${index}`);
    return shard;
  }

  get size(): number {
    return this.shards.reduce((sum, shard) => sum + shard.used, 0);
  }

  /** Adds `key` with `value`; answers the value stored earlier if the key was already there. */
  addOrGet(key: string, value: number): number | undefined {
    const [shardIndex, h1, h2] = hash(key);
    let shard = this.shardAt(shardIndex);
    if ((shard.used + 1) * 10 > shard.hi.length * 7) {
      shard = grow(shard);
      this.shards[shardIndex] = shard;
    }
    return place(shard, h1, h2, value);
  }

  /** Whether `key` (or, rarely, another string with the same hash) was added. */
  has(key: string): boolean {
    const [shardIndex, h1, h2] = hash(key);
    const shard = this.shardAt(shardIndex);
    return !isEmpty(shard, probe(shard, h1, h2));
  }
}

/** The slot holding this hash, or the empty slot where it would go (linear probing). */
function probe(shard: Shard, h1: number, h2: number): number {
  const { hi, lo } = shard;
  const mask = hi.length - 1;
  for (let slot = h2 & mask; ; slot = (slot + 1) & mask) {
    if (isEmpty(shard, slot) || (hi[slot] === h1 && lo[slot] === h2)) return slot;
  }
}

function isEmpty(shard: Shard, slot: number): boolean {
  return shard.hi[slot] === 0 && shard.lo[slot] === 0;
}

/** Puts the hash and value in the shard; answers the value already there for the same hash. */
function place(shard: Shard, h1: number, h2: number, value: number): number | undefined {
  const slot = probe(shard, h1, h2);
  if (!isEmpty(shard, slot)) return shard.values[slot];
  shard.hi[slot] = h1;
  shard.lo[slot] = h2;
  shard.values[slot] = value;
  shard.used += 1;
  return undefined;
}

function grow(shard: Shard): Shard {
  const next = newShard(shard.hi.length * 2);
  for (let i = 0; i < shard.hi.length; i += 1) {
    if (!isEmpty(shard, i)) place(next, shard.hi[i] ?? 0, shard.lo[i] ?? 0, shard.values[i] ?? 0);
  }
  return next;
}

/**
 * Two independent 32-bit hashes (FNV-1a and a murmur-style mix), as [shard (8 bits of the first), 16 more
 * bits of the first, the second]; the last two are never both zero (zero marks an empty slot).
 */
function hash(key: string): [number, number, number] {
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
  const h1 = a & 0xffff;
  if (h1 === 0 && b === 0) b = 1;
  return [a >>> (32 - SHARD_BITS), h1, b];
}
