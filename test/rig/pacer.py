#!/usr/bin/env python3
"""Drains a FIFO at a fixed byte rate so ALSA's file plugin runs in real time.

ALSA's file/null plugins run as fast as the CPU allows. Pointing the file plugin's
output at this FIFO, with the pipe shrunk to a few KiB, makes the writer block
until the pacer has "played" the bytes, which is what a real sound card does.
Each writer that opens the FIFO is served in turn; what was read goes to OUT
(appended), and every chunk's arrival time is logged to OUT.times when asked.
"""
import argparse
import fcntl
import os
import signal
import sys
import time

F_SETPIPE_SZ = 1031


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("fifo")
    ap.add_argument("out")
    ap.add_argument("--rate", type=int, required=True, help="bytes per second")
    ap.add_argument("--pipe-size", type=int, default=4096)
    ap.add_argument("--tick-ms", type=float, default=5.0)
    ap.add_argument("--times", help="log 'monotonic_ns offset length' per chunk read")
    ap.add_argument("--announce", action="store_true", help="print 'ready' once the FIFO is open for reading")
    args = ap.parse_args()

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    out = open(args.out, "ab", buffering=0)
    times = open(args.times, "a", buffering=1) if args.times else None
    offset = out.tell()
    tick = args.tick_ms / 1000.0
    announced_ready = False
    while True:
        fd = os.open(args.fifo, os.O_RDONLY | os.O_NONBLOCK)
        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, args.pipe_size)
        except OSError:
            pass
        if not announced_ready and args.announce:
            print("ready", flush=True)
            announced_ready = True
        # Wait for a writer without spinning: a FIFO opened non-blocking reads EOF
        # until a writer appears, so poll at the tick rate.
        start = None
        budget = 0.0
        writer_seen = False
        while True:
            now = time.monotonic()
            if start is None:
                start = now
                last = now
            budget += (now - last) * args.rate
            last = now
            # Keep at most one tick of credit while idle so a new writer is not
            # allowed to burst.
            budget = min(budget, args.rate * tick * 2)
            want = int(budget)
            if want > 0:
                try:
                    data = os.read(fd, want)
                except BlockingIOError:
                    data = None
                if data:
                    writer_seen = True
                    budget -= len(data)
                    out.write(data)
                    if times:
                        times.write(f"{time.monotonic_ns()} {offset} {len(data)}\n")
                    offset += len(data)
                elif data == b"" and writer_seen:
                    if args.announce:
                        print(f"eof {offset}", flush=True)
                    break  # writer closed
            time.sleep(tick)
        os.close(fd)


if __name__ == "__main__":
    sys.exit(main())
