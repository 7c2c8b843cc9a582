# A tiny stand-in for firmware/unix_main.py, run under MicroPython by the tests:
# same --fd contract, no simulation. It writes the bytes given as --hex (or the
# content of the file --bytes-file: long argv crashes this MicroPython) to the fd,
# then optionally echoes --echo N bytes it reads back, writes --stderr text to
# stderr, sleeps --hang-s seconds, and exits with --exit-code.
import sys
import time

args = sys.argv[1:]
opts = {}
i = 0
while i < len(args):
    if args[i] == "--realtime":
        i += 1
        continue
    opts[args[i]] = args[i + 1]
    i += 2
fd = int(opts["--fd"])
out = open(fd, "wb")
data = bytes.fromhex(opts.get("--hex", ""))
if "--bytes-file" in opts:
    with open(opts["--bytes-file"], "rb") as f:
        data = f.read()
if data:
    out.write(data)
n_echo = int(opts.get("--echo", "0"))
if n_echo:
    inp = open(fd, "rb")
    got = b""
    while len(got) < n_echo:
        got += inp.read(n_echo - len(got))
    out.write(got)
if "--stderr" in opts:
    sys.stderr.write(opts["--stderr"] + "\n")
time.sleep(float(opts.get("--hang-s", "0")))
sys.exit(int(opts.get("--exit-code", "0")))
