#!/usr/bin/env python3
"""qmon.py SOCKET COMMAND...: send human-monitor commands to a QEMU started
with -monitor unix:SOCKET,server=on,wait=off, one after the other, waiting
for the "(qemu) " prompt after each; prints what QEMU answered. Exit 1 if
the socket cannot be reached or QEMU goes away before answering."""
import socket
import sys
import time


def read_until_prompt(s, deadline):
    buf = b""
    while not buf.endswith(b"(qemu) "):
        if time.time() > deadline:
            raise TimeoutError("no monitor prompt")
        chunk = s.recv(4096)
        if not chunk:
            raise ConnectionError("monitor closed")
        buf += chunk
    return buf.decode("utf-8", "replace")


def main(argv):
    path, cmds = argv[1], argv[2:]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(50):
        try:
            s.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    else:
        print("qmon: cannot connect to %s" % path, file=sys.stderr)
        return 1
    s.settimeout(30)
    try:
        read_until_prompt(s, time.time() + 30)
        for c in cmds:
            s.sendall(c.encode() + b"\n")
            out = read_until_prompt(s, time.time() + 30)
            # drop the echoed command line and the prompt
            lines = [l for l in out.replace("\r", "").split("\n")[1:] if not l.startswith("(qemu)")]
            if any(l.strip() for l in lines):
                print("\n".join(l for l in lines if l.strip()))
    except (OSError, TimeoutError, ConnectionError) as e:
        print("qmon: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
