"""What the check scripts (driver_checks.py, hot_path_checks.py) share; runs under
MicroPython and CPython.

A check script defines ``t_NAME`` functions that call :func:`check` and ends with
``run_checks(globals())``: every check runs, a failure is reported and the next one
runs, and the output is one line per check (``ok NAME`` or ``FAIL NAME: reason``) then
``done``, which ``conftest.check_results`` reads back.
"""


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def run_checks(namespace):
    for name in sorted(k for k in namespace if k.startswith("t_")):
        try:
            namespace[name]()
            print("ok", name[2:])
        except Exception as e:  # report every failing check, keep going
            print("FAIL %s: %s %s" % (name[2:], type(e).__name__, e))
    print("done")
