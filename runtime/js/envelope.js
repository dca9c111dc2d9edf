// A header (any sendable value) travelling with a binary body, which is
// copied once into shared memory and never walked.
export class Envelope {
  constructor(header, payload) {
    if (!(payload instanceof ArrayBuffer)) {
      throw new TypeError("Envelope(header, payload): payload must be an ArrayBuffer");
    }
    this.header = header;
    this.payload = payload;
  }
}
