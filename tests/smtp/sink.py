"""A real SMTP server on loopback for ivcd's alert tests (aiosmtpd).

Usage: python3 tests/smtp/sink.py PORT OUT_DIR [--refuse N]

Every accepted message is written to OUT_DIR as NNN.eml (the bytes as
received) with NNN.rcpt beside it (the envelope recipients, one a line),
NNN.eml last and atomically, so a reader never sees half a message. The
first N messages are refused at DATA with "451 4.3.0" (a transient
failure). Prints READY once listening; stops on SIGTERM or stdin EOF.
"""

import argparse
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out_dir, refuse):
        self.out_dir = out_dir
        self.refuse = refuse
        self.seen = 0
        self.accepted = 0

    async def handle_DATA(self, server, session, envelope):
        self.seen += 1
        if self.seen <= self.refuse:
            return "451 4.3.0 Mailbox busy, try again later"
        self.accepted += 1
        base = os.path.join(self.out_dir, "%03d" % self.accepted)
        with open(base + ".rcpt", "w") as f:
            f.write("\n".join(envelope.rcpt_tos) + "\n")
        with open(base + ".eml.tmp", "wb") as f:
            f.write(envelope.original_content)
        os.rename(base + ".eml.tmp", base + ".eml")
        return "250 2.0.0 OK: queued"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("port", type=int)
    parser.add_argument("out_dir")
    parser.add_argument("--refuse", type=int, default=0)
    args = parser.parse_args()
    controller = Controller(Sink(args.out_dir, args.refuse), hostname="127.0.0.1", port=args.port)
    controller.start()
    print("READY", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
