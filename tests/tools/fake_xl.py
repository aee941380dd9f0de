#!/usr/bin/env python3
"""fake_xl.py — a stand-in for xl(1)'s live-migration halves, for tests.

It speaks the real protocol of tools/xl/xl_migrate.c (Xen 4.17):

  sender   `fake_xl.py migrate [-s CMD] [-e] [-p] [--debug] DOMAIN HOST`
           builds the same rune as xl:
             exec CMD HOST xl[ -t][ -T] migrate-receive[ -e][ -d][ -p]
           runs it with `sh -c` on two pipes, waits for the banner, sends the
           xl save header + JSON config, a libxc stream-v2 image (image and
           domain headers, PAGE_DATA records, END), waits for "ready",
           gives the GO message and reads the report + status byte.
  receiver `fake_xl.py [-t] [-T] [-v...] migrate-receive [-e] [-d] [-p] [-F]`
           writes the banner, checks header/config/records, replies "ready",
           waits for GO, reports status 0. It writes what it saw into
           $FAKE_XL_STATE (a directory) and refuses any flag real xl would
           not accept, like -r / --colo, to keep the test honest.

Size of the fake guest: $FAKE_XL_MIB MiB of pages (default 16).
"""
import hashlib
import json
import os
import struct
import subprocess
import sys

BANNER = b"xl migration receiver ready, send binary domain data.\n"
READY = b"domain received, ready to unpause\0"
GO = b"domain is yours, you are cleared to unpause\0"
REPORT = b"my copy unpause results are as follows\0"
MAGIC = b"Xen saved domain, xl format\n \0 \r"
BYTEORDER = 0x01020304
FLAG_JSON = 1 << 1
FLAG_STREAMV2 = 1 << 2
REC_END, REC_PAGE_DATA = 0, 1


def read_exactly(f, n, what):
    buf = b""
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            sys.exit(f"fake xl: stream ended while reading {what}")
        buf += chunk
    return buf


def expect(f, msg, what):
    got = read_exactly(f, len(msg), what)
    if got != msg:
        sys.exit(f"fake xl: unexpected data instead of {what}: {got[:60]!r}")


def pages(mib):
    seed = hashlib.sha256(b"fake guest").digest()
    block = hashlib.sha256(seed).digest() * (65536 // 32)
    for i in range(mib * 16):  # 64 KiB page batches
        yield bytes([i & 0xFF]) + block[1:]


def sender(argv):
    ssh, opts, rest = "ssh", [], []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "-s":
            ssh = argv[i + 1]
            i += 2
            continue
        if a in ("-e", "-p", "--debug"):
            opts.append(a)
        else:
            rest.append(a)
        i += 1
    domain, host = rest
    tty = sys.stderr.isatty()
    rune = "exec %s %s xl%s%s migrate-receive%s%s%s" % (
        ssh, host, " -t" if tty else "", "",
        " -e" if "-e" in opts else "", " -d" if "--debug" in opts else "",
        " -p" if "-p" in opts else "")
    child = subprocess.Popen(["sh", "-c", rune], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             bufsize=0)
    send, recv = child.stdin, child.stdout
    expect(recv, BANNER, "banner")
    config = json.dumps({"c_info": {"name": domain}, "b_info": {"max_memkb": 1048576}}).encode()
    opt = struct.pack("<I", len(config)) + config
    send.write(MAGIC + struct.pack("<IIII", BYTEORDER, FLAG_STREAMV2 | FLAG_JSON, 0, len(opt)))
    send.write(opt)
    # libxc stream v2: image header (big-endian), domain header, records
    send.write(struct.pack(">QIIHHI", 0xFFFFFFFFFFFFFFFF, 0x58454E46, 2, 1 << 0, 0, 0))
    send.write(struct.pack("<IHHII", 1, 12, 0, 4, 17))
    h = hashlib.sha256()
    for body in pages(int(os.environ.get("FAKE_XL_MIB", "16"))):
        send.write(struct.pack("<II", REC_PAGE_DATA, len(body)) + body)
        h.update(body)
    send.write(struct.pack("<II", REC_END, 0))
    expect(recv, READY, "ready message")
    print("migration sender: Target has acknowledged transfer.", file=sys.stderr)
    send.write(GO)
    expect(recv, REPORT, "success/failure report message")
    status = read_exactly(recv, 1, "success/failure status")[0]
    send.close()
    child.wait()
    if status:
        sys.exit(f"migration sender: Target reports startup failure (status code {status}).")
    print("migration sender: Target reports successful startup.", file=sys.stderr)
    print(f"Migration successful. pages sha256 {h.hexdigest()}", file=sys.stderr)
    return 0


def receiver(glob, argv):
    allowed = {"-e", "-d", "-p", "-F"}
    for a in argv:
        if a not in allowed:
            sys.exit(f"fake xl migrate-receive: option {a} refused by the stand-in")
    out, inp = sys.stdout.buffer, sys.stdin.buffer
    state = os.environ.get("FAKE_XL_STATE")
    print("migration target: Ready to receive domain.", file=sys.stderr)
    out.write(BANNER)
    out.flush()
    hdr = read_exactly(inp, 48, "header")
    if hdr[:32] != MAGIC:
        sys.exit("fake xl: bad save header")
    order, mand, _optf, optlen = struct.unpack("<IIII", hdr[32:])
    if order != BYTEORDER or not mand & FLAG_STREAMV2:
        sys.exit("fake xl: bad byte order or stream version")
    opt = read_exactly(inp, optlen, "optional data")
    (clen,) = struct.unpack("<I", opt[:4])
    config = json.loads(opt[4:4 + clen])
    ih = read_exactly(inp, 24, "image header")
    marker, ident, version, _o, _r, _r2 = struct.unpack(">QIIHHI", ih)
    read_exactly(inp, 16, "domain header")
    if marker != 0xFFFFFFFFFFFFFFFF or ident != 0x58454E46 or version != 2:
        sys.exit("fake xl: bad libxc image header")
    h, n = hashlib.sha256(), 0
    while True:
        rtype, rlen = struct.unpack("<II", read_exactly(inp, 8, "record header"))
        if rtype == REC_END:
            break
        body = read_exactly(inp, rlen, "record")
        h.update(body)
        n += rlen
    print("migration target: Transfer complete, requesting permission to start domain.",
          file=sys.stderr)
    out.write(READY)
    out.flush()
    expect(inp, GO, "GO message")
    print("migration target: Got permission, starting domain.", file=sys.stderr)
    out.write(REPORT + b"\0")
    out.flush()
    if state:
        with open(os.path.join(state, "received"), "w") as f:
            json.dump({"domain": config["c_info"]["name"], "bytes": n, "sha256": h.hexdigest(),
                       "xl_flags": glob, "receive_flags": argv,
                       "peer": os.environ.get("XENGUARD_TUNNEL_PEER", "")}, f)
    return 0


def main():
    argv = sys.argv[1:]
    if argv and argv[0] == "migrate":
        return sender(argv[1:])
    glob = []
    while argv and argv[0] != "migrate-receive":
        a = argv.pop(0)
        if a not in ("-t", "-T") and not (a.startswith("-v") and set(a[1:]) == {"v"}):
            sys.exit(f"fake xl: global option {a} unknown")
        glob.append(a)
    if not argv:
        sys.exit("usage: fake_xl.py migrate ... | fake_xl.py [-t] migrate-receive ...")
    return receiver(glob, argv[1:])


if __name__ == "__main__":
    sys.exit(main())
