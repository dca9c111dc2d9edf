// The host's table of calls in its lanes, by call id (pool.js).

// Records of calls sent to a lane, by call id. An id is a slot index (low
// 20 bits) and that slot's generation (11 bits above): slots are reused from
// a free list, so the table stays dense, and the generation makes a stale or
// duplicated answer for an earlier call of the slot miss instead of
// settling the new one. Only calls in a lane's 32 slots are here.
const SLOT_BITS = 20;
const SLOT_MASK = (1 << SLOT_BITS) - 1;
const GEN_MASK = 0x7ff;

export class CallTable {
  constructor() {
    this.recs = [undefined]; // slot 0 is never used: id 0 means "none"
    this.gens = [0];
    this.ids = [0];
    this.free = [];
  }
  add(rec) {
    let slot = this.free.pop();
    if (slot === undefined) {
      slot = this.recs.push(undefined) - 1;
      this.gens.push(0);
      this.ids.push(0);
      if (slot > SLOT_MASK) throw new RangeError("knitting: more than 2^20 calls in lanes at once");
    }
    const gen = (this.gens[slot] = (this.gens[slot] + 1) & GEN_MASK);
    const id = (gen << SLOT_BITS) | slot;
    this.recs[slot] = rec;
    this.ids[slot] = id;
    return id;
  }
  get(id) {
    const slot = id & SLOT_MASK;
    return this.ids[slot] === id ? this.recs[slot] : undefined;
  }
  delete(id) {
    const slot = id & SLOT_MASK;
    if (this.ids[slot] !== id || this.recs[slot] === undefined) return;
    this.recs[slot] = undefined;
    this.ids[slot] = 0;
    this.free.push(slot);
  }
  values() {
    return this.recs.filter((rec) => rec !== undefined);
  }
  clear() {
    this.recs = [undefined];
    this.gens = [0];
    this.ids = [0];
    this.free = [];
  }
}
