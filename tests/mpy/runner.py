# Runs on the MicroPython VM: imports each test module named on the command
# line and runs its test_* functions, one result line each, so pytest can
# report every MicroPython test by name.
import gc
import sys


def run(modname):
    mod = __import__(modname)
    names = [n for n in dir(mod) if n.startswith("test_")]
    names.sort()
    for n in names:
        try:
            getattr(mod, n)()
            print("PASS", modname, n)
        except Exception as e:  # report and go on to the next test
            sys.print_exception(e)
            print("FAIL", modname, n, repr(e).replace("\n", " "))
        # the executive disables the collector while it flies: a test that fails
        # half-way leaves it off, and every test after it would run out of heap
        gc.enable()
        gc.collect()


for m in sys.argv[1:]:
    run(m)
print("DONE")
