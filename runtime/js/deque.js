// A FIFO over one array and a head index: push and drop are O(1), where
// Array.prototype.shift and splice(0, n) move every item left behind.
export class Deque {
  constructor() {
    this.items = [];
    this.head = 0;
  }
  get length() {
    return this.items.length - this.head;
  }
  push(x) {
    this.items.push(x);
  }
  // The item i places behind the head.
  at(i) {
    return this.items[this.head + i];
  }
  peek() {
    return this.items[this.head];
  }
  shift() {
    const x = this.items[this.head];
    this.drop(1);
    return x;
  }
  drop(n) {
    const { items } = this;
    for (let i = 0; i < n; i++) items[this.head++] = undefined;
    if (this.head === items.length) {
      items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > items.length) {
      this.items = items.slice(this.head);
      this.head = 0;
    }
  }
  // The items still queued, in order.
  list() {
    return this.items.slice(this.head);
  }
  // The same, leaving the deque empty.
  drain() {
    const rest = this.list();
    this.items = [];
    this.head = 0;
    return rest;
  }
}
