import sys, time, gc
sys.argv = ["x", "frames.bin"]
T = {}
def wrap(obj, name, key):
    f = getattr(obj, name)
    def w(*a):
        t0 = time.ticks_us()
        r = f(*a)
        T[key] = T.get(key, 0) + time.ticks_diff(time.ticks_us(), t0)
        return r
    setattr(obj, name, w)
exec(open("/work/main/hil_rig/mpy_bench_firmware.py").read().replace('main(sys.argv[1]', 'def _x(): main(sys.argv[1]'))
class P(BenchApp):
    def __init__(self, b):
        BenchApp.__init__(self, b)
        wrap(self.est, "update", "est")
        wrap(self.seq, "step", "seq")
        wrap(self.guid, "vertical", "gvert")
        wrap(self.guid, "lateral", "glat")
        wrap(self.guid, "update_full_thrust", "gfull")
        wrap(self.att, "update", "att")
        wrap(self.link, "send_actuators", "sendact")
        wrap(self.link, "poll", "poll")
        wrap(self, "after_cycle", "after")
        wrap(self, "housekeeping", "house")
        wrap(self, "answered_before", "ansb")
with open("frames.bin","rb") as f:
    a = P(ReplayBoard(f))
    a.run()
n = a.n
tot = 0
for i in range(n): tot += a.times[i]
print("cycles", n, "mean cycle", tot/n)
for k in sorted(T): print(k, T[k]/n)
