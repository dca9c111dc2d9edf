// The inliner (options.inliner): a pool's lane on the host thread.
import { knit } from "./addon.js";

// Runs calls on the host thread itself, between event-loop turns. Values are
// cloned through the codec, so tasks see exactly what a worker would.
export class InlineLane {
  constructor(pool, { batchSize, dispatchThreshold, position }) {
    this.pool = pool;
    this.batchSize = batchSize;
    this.dispatchThreshold = dispatchThreshold;
    this.position = position;
    this.inflight = 0;
    this.pending = [];
    this.running = new Set(); // calls whose async task has not settled yet
    this.scheduled = false;
    this.turn = 0;
    this.tick = () => this.runBatch();
  }

  preferred() {
    // "first" takes the turn before the workers, "last" after every lane.
    const lanes = this.pool.lanes.length + 1;
    const at = this.position === "first" ? 0 : this.position === "last" ? lanes - 1 : Math.min(this.position, lanes - 1);
    return this.turn++ % lanes === at;
  }

  run(rec) {
    const spec = this.pool.specs[rec.task];
    if (!spec.local) {
      // importTask modules are never evaluated on the host.
      if (!this.pool.lanes.some((lane) => this.pool.submit(lane, rec))) this.pool.enqueue(rec);
      return;
    }
    this.inflight++;
    this.pending.push(rec);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.tick);
    }
  }

  runBatch() {
    this.scheduled = false;
    const batch = this.pending.splice(0, this.batchSize);
    for (const rec of batch) {
      if (rec.settled) {
        this.inflight--;
        continue;
      }
      const f = this.pool.specs[rec.task].local;
      let result;
      try {
        result = f(this.takeArg(rec), { hasAborted: () => rec.settled, now: knit.now });
      } catch (err) {
        this.finish(rec, false, err);
        continue;
      }
      if (result && typeof result.then === "function") {
        this.running.add(rec);
        result.then((v) => this.finish(rec, true, v), (e) => this.finish(rec, false, e));
      } else {
        this.finish(rec, true, result);
      }
    }
    if (this.pending.length && !this.scheduled) {
      this.scheduled = true;
      setImmediate(this.tick);
    }
  }

  // The argument as a worker would see it: a decoded copy.
  takeArg(rec) {
    if (rec.stashed < 0) return knit.clone(rec.arg, this.pool.options.payload.maxPayloadBytes, false);
    const token = rec.stashed;
    rec.stashed = -1; // spent by unstash even if decoding throws
    return knit.unstash(this.pool.handle, token, true);
  }

  // Shutdown gives up on every call here, as on a worker's: one waiting
  // for its turn never runs; a running one sees hasAborted() and its result
  // is dropped.
  abandon(err) {
    for (const rec of this.pending) this.pool.settle(rec, false, err);
    for (const rec of this.running) this.pool.settle(rec, false, err);
  }

  // The result or the throw as the worker would send it back.
  finish(rec, ok, value) {
    this.inflight--;
    this.running.delete(rec);
    if (rec.settled) return; // given up on: a timeout, an abort, a shutdown
    try {
      value = knit.clone(value, this.pool.options.payload.maxPayloadBytes, !ok);
    } catch (err) {
      [ok, value] = [false, err];
    }
    this.pool.settle(rec, ok, value);
  }
}
