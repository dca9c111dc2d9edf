#!/usr/bin/env python3
"""Writes the seed inputs of the libknit fuzz targets (codec, mailbox, native)
into tests/fuzz/corpus/<target>/seed-*. The payloads follow docs/protocol.md
section 6; the mailbox inputs follow the layout described in fuzz_mailbox.c.
Run it again after a protocol change; libFuzzer adds its own finds as
hash-named files next to these."""
import os
import struct

here = os.path.dirname(os.path.abspath(__file__))


def u32(n): return struct.pack("<I", n)
def u64(n): return struct.pack("<Q", n)


class W:
    """A payload writer with the binary padding rule (relative to the start)."""

    def __init__(self): self.b = bytearray()
    def tag(self, t): self.b.append(t); return self
    def raw(self, x): self.b += x; return self

    def num(self, v):
        if isinstance(v, int) and -2**31 <= v < 2**31:
            return self.tag(0x05).raw(struct.pack("<i", v))
        return self.tag(0x04).raw(struct.pack("<d", v))

    def big(self, v):
        sign = 1 if v < 0 else 0
        m = abs(v)
        words = []
        while m:
            words.append(m & (2**64 - 1))
            m >>= 64
        self.tag(0x06).raw(bytes([sign])).raw(u32(len(words)))
        for w in words: self.raw(u64(w))
        return self

    def s8(self, s):
        b = s.encode() if isinstance(s, str) else s
        return self.tag(0x07).raw(u32(len(b))).raw(b)

    def s16(self, units):
        self.tag(0x08).raw(u32(len(units)))
        for u in units: self.raw(struct.pack("<H", u))
        return self

    def bin(self, tag, data):
        self.tag(tag).raw(u32(len(data)))
        self.raw(bytes((8 - len(self.b) % 8) % 8))
        return self.raw(data)

    def cont(self, tag, n): return self.tag(tag).raw(u32(n))


def codec_seeds():
    s = {}
    for name, t in [("undefined", 0), ("null", 1), ("false", 2), ("true", 3)]:
        s[name] = W().tag(t).b
    s["i32"] = W().num(-123456).b
    s["f64-negzero"] = W().num(-0.0).b
    s["f64-nan"] = W().tag(0x04).raw(struct.pack("<Q", 0x7ff8000000000001)).b
    s["i32-as-f64"] = W().num(7.0).b  # non-canonical, accepted
    s["bigint-zero"] = W().big(0).b
    s["bigint-neg-3w"] = W().big(-(2**130 + 5)).b
    s["bigint-highzero"] = W().tag(0x06).raw(b"\0").raw(u32(2)).raw(u64(1)).raw(u64(0)).b
    s["bigint-badsign"] = W().tag(0x06).raw(b"\2").raw(u32(0)).b
    s["str8"] = W().s8("hello, world").b
    s["str8-nul"] = W().s8(b"a\0b").b
    s["str16-surrogates"] = W().s16([0x61, 0xD800, 0x62, 0xDC00, 0xD83D, 0xDE00, 0xE9]).b
    s["str16-odd"] = W().tag(0x08).raw(u32(3)).raw(b"\x41\x00\x42").b
    s["date"] = W().tag(0x09).raw(struct.pack("<d", 1.7e12)).b
    s["date-invalid"] = W().tag(0x09).raw(struct.pack("<d", float("nan"))).b
    s["symbol"] = W().tag(0x0a).s8("knit.test").b
    w = W().tag(0x0b).raw(bytes([7])).s8("TypeError").s8("bad").s8("TypeError: bad\n at x")
    w.tag(0x0b).raw(b"\0").s8("Error").s8("inner")
    w.cont(0x11, 1).s8("code").s8("E_BAD")
    s["error-all"] = w.b
    s["error-badflags"] = W().tag(0x0b).raw(bytes([8])).s8("E").s8("m").b
    w = W().cont(0x10, 4).num(1).s8("two").cont(0x10, 1).num(3).tag(0)
    s["array"] = w.b
    w = W().cont(0x11, 2).s8("a").num(1).s8("b").cont(0x11, 1).s8("c").cont(0x10, 0)
    s["object"] = w.b
    w = W().cont(0x12, 2).num(1).s8("a").cont(0x11, 0).cont(0x13, 1).big(5)
    s["map-set"] = w.b
    w = W().tag(0x14).cont(0x11, 1).s8("kind").s8("frame").bin(0x20, bytes(range(24)))
    s["envelope"] = w.b
    kinds = {0x20: 1, 0x21: 1, 0x22: 1, 0x23: 1, 0x24: 1, 0x25: 1, 0x26: 2, 0x27: 2,
             0x28: 4, 0x29: 4, 0x2a: 4, 0x2b: 8, 0x2c: 8, 0x2d: 8}
    for tag, es in kinds.items():
        s[f"binary-{tag:02x}"] = W().bin(tag, bytes(range(es * 5))).b
    w = W().cont(0x10, len(kinds))
    for tag, es in kinds.items(): w.bin(tag, bytes([tag]) * es * 3)
    s["binary-all-nested"] = w.b
    s["binary-empty"] = W().bin(0x2b, b"").b
    s["binary-ragged"] = W().tag(0x2b).raw(u32(12)).raw(bytes(3)).raw(bytes(12)).b
    s["binary-inline-edge"] = W().bin(0x24, bytes(440)).b
    s["binary-arena"] = W().bin(0x2b, bytes(range(256)) * 8).b
    deep = W()
    for _ in range(128): deep.cont(0x10, 1)
    s["depth-128"] = deep.tag(1).b
    deeper = W()
    for _ in range(129): deeper.cont(0x10, 1)
    s["depth-129"] = deeper.tag(1).b
    s["count-too-big"] = W().cont(0x10, 0xFFFFFFFF).tag(1).b
    s["str8-len-too-big"] = W().tag(0x07).raw(u32(0xFFFFFFF0)).raw(b"ab").b
    s["trailing"] = W().tag(1).tag(1).b
    s["unknown-tag"] = bytes([0x0c])
    s["truncated-object"] = bytes(W().cont(0x11, 3).s8("a").num(1).s8("b").b)
    return s


def header(status=None, flags=None, length=None, offset=None, taskcall=None, aux=None, inline=None):
    mask, b = 0, bytearray()
    if status is not None: mask |= 1; b += u32(status)
    if flags is not None: mask |= 2; b += u32(flags)
    if length is not None: mask |= 4; b += u64(length)
    if offset is not None: mask |= 8; b += u64(offset)
    if taskcall is not None: mask |= 16; b += u32(taskcall[0]) + u32(taskcall[1])
    if aux is not None: mask |= 32; b += u32(aux)
    if inline is not None: mask |= 64; b += inline
    return bytes([mask]) + bytes(b)


def length_of(sel):  # as in fuzz_mailbox.c
    k = sel >> 14
    if k == 0: return sel % 449
    if k == 1: return 440 + sel % 17
    if k == 2: return 449 + sel % 8192
    return (sel & 0x3fff) * (96 * 1024 // 0x3fff)


def msg(kind, n, payload=b"", **fields):
    """One message: size selector, payload bytes (the target reads up to 512),
    then the header attack."""
    sel = (kind << 14) | n
    length = min(length_of(sel), 512)
    body = (bytes(payload) + bytes(length))[:length]
    return struct.pack(">H", sel) + body + header(**fields)


def mailbox_seeds():
    payload = bytes(W().cont(0x11, 1).s8("k").bin(0x24, bytes(range(64))).b)
    s = {}
    s["honest-inline"] = bytes([0]) + msg(0, len(payload), payload)
    s["honest-edge"] = bytes([0]) + msg(1, 8)  # 448 bytes inline
    s["honest-arena"] = bytes([0]) + msg(2, 0)  # 449 bytes: arena
    s["four-mixed"] = bytes([3]) + b"".join(msg(k, 5, payload) for k in range(4))
    s["inline-len-449"] = bytes([0]) + msg(0, 10, length=449)
    s["inline-len-448"] = bytes([0]) + msg(0, 10, length=448, inline=payload + bytes(448 - len(payload)))
    s["inline-len-huge"] = bytes([0]) + msg(0, 10, length=2**64 - 1)
    s["status-2"] = bytes([0]) + msg(0, 10, status=2)
    s["status-thrown"] = bytes([0]) + msg(0, len(payload), payload, status=1)
    s["flags-2"] = bytes([0]) + msg(0, 10, flags=2)
    s["flags-arena-on-inline"] = bytes([0]) + msg(0, 10, flags=1, offset=0, length=100)
    s["arena-offset-unaligned"] = bytes([0]) + msg(2, 100, offset=8)
    s["arena-at-committed-end"] = bytes([0]) + msg(2, 100, offset=16384 - 64, length=64)
    s["arena-past-committed"] = bytes([0]) + msg(2, 100, offset=16384 - 64, length=65)
    s["arena-grown-end"] = bytes([4]) + msg(2, 100, offset=128 * 1024 - 64, length=64)
    s["arena-offset-wraps"] = bytes([0]) + msg(2, 100, offset=2**64 - 64, length=128)
    s["arena-len-over-max"] = bytes([0]) + msg(2, 100, offset=0, length=96 * 1024 + 1)
    s["arena-other-region"] = bytes([1]) + msg(2, 600) + msg(2, 100, offset=0)
    s["arena-big"] = bytes([0]) + msg(3, 0x3fff)
    return s


def native_seeds():
    s = {}
    s["number"] = bytes([0]) + W().num(2.5).b
    s["number-wrong-type"] = bytes([0]) + W().s8("x").b
    s["tuple"] = bytes([1]) + W().cont(0x10, 3).num(1).tag(3).big(-42).b
    s["tuple-short"] = bytes([1]) + W().cont(0x10, 2).num(1).tag(3).b
    s["tuple-bigint-too-big"] = bytes([1]) + W().cont(0x10, 3).num(1).tag(3).big(2**64).b
    s["string8"] = bytes([2]) + W().s8("héllo").b
    s["string16"] = bytes([2]) + W().s16([0xD800, 0x41, 0xDFFF]).b
    s["bytes"] = bytes([3]) + W().bin(0x24, bytes(range(100))).b
    s["bytes-arraybuffer"] = bytes([3]) + W().bin(0x20, bytes(9)).b
    s["f64s"] = bytes([4]) + W().bin(0x2b, struct.pack("<3d", 1, 2, 3)).b
    s["i32s"] = bytes([5]) + W().bin(0x28, struct.pack("<3i", 1, -2, 3)).b
    w = W().cont(0x11, 3).s8("a").num(1.5).s8("b").s8("bee")
    w.s8("c").cont(0x11, 3).s8("d").bin(0x2b, struct.pack("<2d", 4, 5)).s8("e").big(7).s8("extra").tag(1)
    s["struct"] = bytes([6]) + w.b
    s["struct-key16"] = bytes([6]) + W().cont(0x11, 1).s16([0x61]).num(1).b
    s["struct-missing"] = bytes([6]) + W().cont(0x11, 1).s8("a").num(1).b
    s["mixed"] = bytes([7]) + W().cont(0x10, 3).s8("s").bin(0x24, bytes(7)).bin(0x28, bytes(8)).b
    return s


def write(target, seeds):
    d = os.path.join(here, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for i, (name, data) in enumerate(sorted(seeds.items())):
        with open(os.path.join(d, f"seed-{i:02d}-{name}"), "wb") as f:
            f.write(bytes(data))


write("codec", codec_seeds())
write("mailbox", mailbox_seeds())
write("native", native_seeds())
