#!/usr/bin/python3
"""Times one whole command from outside, as a user waits for it: start-up included.

    timed.py [--stdout FILE] [--stderr FILE] -- COMMAND [ARG ...]

Starts COMMAND (no shell), waits for it and prints one JSON line:
{"seconds": wall, "user_seconds": ..., "sys_seconds": ..., "peak_rss_bytes": ..., "exit": code}.
Wall time is a monotonic clock read just before the start and just after the child is reaped;
user/sys time and peak RSS are the kernel's accounting of that child (os.wait4; Linux reports
ru_maxrss in KiB, and counts the largest of the child and the descendants it waited for).
The command's stdout and stderr go to the files named (default: discarded), so the bench can
read what it printed. Nothing in the environment is changed.
"""
import json
import os
import sys
import time


def main():
    args = sys.argv[1:]
    out_path = err_path = os.devnull
    while args and args[0] != "--":
        flag = args.pop(0)
        if flag == "--stdout":
            out_path = args.pop(0)
        elif flag == "--stderr":
            err_path = args.pop(0)
        else:
            sys.exit(f"timed.py: unknown option {flag}")
    if not args or len(args) < 2:
        sys.exit("usage: timed.py [--stdout FILE] [--stderr FILE] -- COMMAND [ARG ...]")
    command = args[1:]
    with open(out_path, "wb") as out, open(err_path, "wb") as err, open(os.devnull, "rb") as devnull:
        file_actions = [
            (os.POSIX_SPAWN_DUP2, devnull.fileno(), 0),
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        ]
        t0 = time.monotonic()
        pid = os.posix_spawnp(command[0], command, os.environ, file_actions=file_actions)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.monotonic() - t0
    print(json.dumps({
        "seconds": seconds,
        "user_seconds": usage.ru_utime,
        "sys_seconds": usage.ru_stime,
        "peak_rss_bytes": usage.ru_maxrss * 1024,
        "exit": os.waitstatus_to_exitcode(status),
    }))


if __name__ == "__main__":
    main()
