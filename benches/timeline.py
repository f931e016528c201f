#!/usr/bin/env python3
"""A running SCP, every INTERVAL seconds: its calls, slow answers, ledger commits, the
machine's CPU use and each busy thread's CPU and run-queue wait. For finding what the slow
answers of a load test coincide with (benches/perf_record.sh runs it with TIMELINE=1).

    benches/timeline.py ADMIN_ADDR SCP_PID SECONDS [INTERVAL]
    benches/timeline.py threads SCP_PID     # one line per thread: name, CPU ticks, run-queue ns,
                                            # times put on a core

Columns: calls answered (InitialDP -> first answer, the SCP's own histogram) and how many of
them took over 1 / 2.5 / 10 ms; ledger commits and how many took over 1 ms; snapshots taken;
the journal's size in MB (it grows a whole segment when the writer moves to a new one);
the machine's user / system / softirq / idle share; then each thread that used >= 3 ticks or
waited > 1 ms for a core, as name:cpu_ticks/run_queue_wait. A last line sums it up.
"""
import os
import sys
import time
import urllib.request

SETUP = "strowger_call_setup_seconds"
COMMIT = "strowger_ledger_fsync_seconds"
SNAPS = "strowger_ledger_snapshots_total"
JOURNAL = "strowger_ledger_journal_bytes"


def scrape():
    text = urllib.request.urlopen("http://%s/metrics" % admin, timeout=2).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def total(m, prefix, le=None):
    return sum(v for k, v in m.items()
               if k.startswith(prefix) and (le is None or 'le="%s"' % le in k))


def over(m, name, le):
    """Observations of histogram `name` above bucket `le`."""
    return total(m, name + "_count") - total(m, name + "_bucket", le)


def threads(pid):
    """Each thread of `pid`: tid -> (name, CPU ticks, ns runnable waiting for a core, times
    put on a core)."""
    out = {}
    for tid in os.listdir("/proc/%s/task" % pid):
        try:
            stat = open("/proc/%s/task/%s/stat" % (pid, tid)).read()
            sched = open("/proc/%s/task/%s/schedstat" % (pid, tid)).read().split()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        out[tid] = (name, int(fields[11]) + int(fields[12]), int(sched[1]), int(sched[2]))
    return out


def machine():
    return list(map(int, open("/proc/stat").readline().split()[1:]))


if sys.argv[1] == "threads":
    for name, ticks, wait, runs in threads(sys.argv[2]).values():
        print("%s %d %d %d" % (name.replace(" ", "_"), ticks, wait, runs))
    sys.exit(0)
admin, pid, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
interval = float(sys.argv[4]) if len(sys.argv) > 4 else 0.1
print("%5s %6s %5s %6s %5s %7s %5s %5s %7s  %-20s %s" % (
    "t s", "calls", ">1ms", ">2.5ms", ">10ms", "commits", ">1ms", "snaps", "jrnl MB", "machine %",
    "threads: cpu ticks/run-queue wait"))
prev, prev_t, prev_m = scrape(), threads(pid), machine()
start = time.time()
sums = {"calls": 0, "over1": 0, "commits": 0, "cpu": {}, "wait": {}}
while time.time() - start < secs:
    time.sleep(interval)
    try:
        cur = scrape()
    except OSError:
        break
    cur_t, cur_m = threads(pid), machine()
    dm = [a - b for a, b in zip(cur_m, prev_m)]
    all_ticks = max(sum(dm), 1)
    calls = total(cur, SETUP + "_count") - total(prev, SETUP + "_count")
    slow = [over(cur, SETUP, le) - over(prev, SETUP, le) for le in ("0.001", "0.0025", "0.01")]
    commits = total(cur, COMMIT + "_count") - total(prev, COMMIT + "_count")
    slow_commits = over(cur, COMMIT, "0.001") - over(prev, COMMIT, "0.001")
    busy = []
    for tid, (name, ticks, wait, _) in sorted(cur_t.items(), key=lambda x: x[1][0]):
        if tid not in prev_t:
            continue
        dt, dw = ticks - prev_t[tid][1], (wait - prev_t[tid][2]) / 1e6
        sums["cpu"][name] = sums["cpu"].get(name, 0) + dt
        sums["wait"][name] = sums["wait"].get(name, 0) + dw
        if dt >= 3 or dw > 1:
            busy.append("%s:%d/%.1fms" % (name, dt, dw))
    sums["calls"] += calls
    sums["over1"] += slow[0]
    sums["commits"] += commits
    print("%5.1f %6d %5d %6d %5d %7d %5d %5d %7.0f  u%-3d s%-3d si%-3d idle%-3d %s" % (
        time.time() - start, calls, slow[0], slow[1], slow[2], commits, slow_commits,
        total(cur, SNAPS) - total(prev, SNAPS), total(cur, JOURNAL) / 1e6,
        dm[0] * 100 // all_ticks, dm[2] * 100 // all_ticks, dm[6] * 100 // all_ticks,
        (dm[3] + dm[4]) * 100 // all_ticks, " ".join(busy)), flush=True)
    prev, prev_t, prev_m = cur, cur_t, cur_m
n = max(sums["calls"], 1)
tck = os.sysconf("SC_CLK_TCK")
print("sum: %d calls, %.2f %% over 1 ms, %d commits; per call, CPU / run-queue wait (us): %s" % (
    sums["calls"], 100.0 * sums["over1"] / n, sums["commits"],
    ", ".join("%s %.1f / %.1f" % (k, v * 1e6 / tck / n, sums["wait"][k] * 1e3 / n)
              for k, v in sorted(sums["cpu"].items(), key=lambda x: -x[1]) if v)))
