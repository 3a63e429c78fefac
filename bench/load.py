#!/usr/bin/env python3
"""Loopback load run: one command, 127.0.0.1 only, bounded durations.

    python3 bench/load.py [--duration SECONDS] [--rounds N] [--out DIR]

1. Guarded handler throughput: `bench-server` (tests/src/bin/bench-server.rs) pinned to core
   0, wrk pinned to core 1. The same handler bare, behind our guard (HS256 and EdDSA), behind
   a hand-written extractor on our runtime, behind a hand-written jsonwebtoken middleware and
   behind protect-axum. Variants are interleaved, `--rounds` times; medians are reported.
2. `GET /auth/me` of the example auth service on SQLite and on PostgreSQL (a fresh database),
   server on core 0.
3. Login storm: the auth service on both cores, OWASP Argon2 parameters, wrk POSTing logins
   (polite and hostile clients) while three light probes measure the latency of
   `GET /auth/me`, of the same process's `GET /health`, and of a bare handler in another
   process (the machine's floor under the same load); compared with a raw two-thread Argon2
   verification loop and with the idle latencies; `--rounds` times, medians and ranges
   reported.

Writes `load.md` (tables) and `throughput.svg` into `--out` (default bench/results) and prints
the tables. Needs wrk (Debian package `wrk`; installed with apt-get when missing and allowed).
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PORT_BENCH = 18090
PORT_SQLITE = 18091
PORT_PG = 18092
PORT_STORM = 18093
PORT_BARE = 18094
# The storm's latency probes: the auth service's `/auth/me` and `/health`, and a bare handler
# in another process.
PROBES = [("me", "`/auth/me`"), ("health", "`/health`"), ("bare", "bare, other process,")]
PASSWORD = "correct horse battery"

VARIANTS = [
    ("bare", "/bare", None),
    ("ours: macro guard, HS256", "/guarded", "hs256"),
    ("ours: hand-written extractor, HS256", "/hand-written", "hs256"),
    ("ours: minimal hand-written extractor, HS256", "/hand-written-minimal", "hs256"),
    ("ours: macro guard, HS256, cache off", "/uncached/guarded", "hs256"),
    ("ours: macro guard, EdDSA", "/eddsa/guarded", "eddsa"),
    ("ours: macro guard, EdDSA, cache off", "/eddsa-uncached/guarded", "eddsa_uncached"),
    ("jsonwebtoken middleware, HS256", "/jwt-middleware", "hs256"),
    ("protect-axum + jsonwebtoken, HS256", "/protect-axum", "hs256"),
]


def sh(*cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def ensure_wrk():
    if shutil.which("wrk"):
        return
    print("installing wrk (Debian package)", file=sys.stderr)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)


def build():
    print("building release binaries", file=sys.stderr)
    for package, binary in [("tests", "bench-server"), ("auth-service", "auth-service")]:
        subprocess.run(["cargo", "build", "--release", "-p", package, "--bin", binary],
                       cwd=ROOT, check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    return (os.path.join(target, "release", "bench-server"),
            os.path.join(target, "release", "auth-service"))


def wait_up(url, proc, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except Exception:
            time.sleep(0.1)
    sys.exit(f"{url} did not answer")


def http(method, url, body=None, token=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data:
        req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read() or b"null")


def wrk_command(url, duration, connections=32, token=None, script=None, core=1):
    cmd = ["taskset", "-c", str(core)] if core is not None else []
    cmd += ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    if token:
        cmd += ["-H", f"Authorization: Bearer {token}"]
    if script:
        cmd += ["-s", script]
    return cmd + [url]


def wrk_result(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p):
        m = re.search(rf"^\s+{p}%\s+([\d.]+)(us|ms|s)", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "out": out,
            "non2xx": int(non2xx.group(1)) if non2xx else 0}


def wrk(url, duration, connections=32, token=None, script=None, core=1):
    return wrk_result(sh(*wrk_command(url, duration, connections, token, script, core)))


def probes(targets, duration, script):
    """Light probes (2 connections, `script` paces them) of every (url, token) at once."""
    procs = [subprocess.Popen(wrk_command(url, duration, 2, token, script, None),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for url, token in targets]
    results = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode:
            sys.exit(f"probe failed: {err}")
        results.append(wrk_result(out))
    return results


def throughput(bench_server, duration, rounds):
    proc = subprocess.Popen(["taskset", "-c", "0", bench_server, f"127.0.0.1:{PORT_BENCH}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = f"http://127.0.0.1:{PORT_BENCH}"
        wait_up(base + "/bare", proc)
        tokens = http("GET", base + "/tokens")
        runs = {name: [] for name, _, _ in VARIANTS}
        for _ in range(rounds):
            for name, path, token in VARIANTS:
                result = wrk(base + path, duration, token=tokens[token] if token else None)
                if result["non2xx"]:
                    sys.exit(f"{name}: {result['non2xx']} non-2xx answers")
                runs[name].append(result)
        return {name: {"rps": statistics.median(r["rps"] for r in rs),
                       "p99": statistics.median(r["p99"] for r in rs)}
                for name, rs in runs.items()}
    finally:
        proc.terminate()
        proc.wait()


def start_service(auth_service, port, database_url, workdir, core="0"):
    # The storm's logins from 127.0.0.1 measure the hasher, not the lockout's delay nor the
    # rate limits (which would refuse most of them before any hashing).
    env = dict(os.environ, AUTH__SERVER__BIND=f"127.0.0.1:{port}",
               AUTH__DATABASE__URL=database_url, RUST_LOG="warn",
               AUTH__LOCKOUT__ENABLED="false", AUTH__RATE_LIMIT__ENABLED="false")
    cmd = ([auth_service] if core is None else ["taskset", "-c", core, auth_service])
    proc = subprocess.Popen(cmd, env=env, cwd=workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    wait_up(f"http://127.0.0.1:{port}/health", proc)
    return proc


def register_and_login(port, name):
    base = f"http://127.0.0.1:{port}"
    http("POST", base + "/auth/register",
         {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
    return http("POST", base + "/auth/login",
                {"username": name, "password": PASSWORD})["access_token"]


def auth_me(auth_service, duration, workdir):
    results = {}
    sqlite = f"sqlite://{workdir}/me.db"
    db = f"bench_{os.getpid()}"
    pg_admin = os.environ.get("AUTH_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")
    sh("psql", pg_admin, "-qc", f"CREATE DATABASE {db}")
    pg = pg_admin.rsplit("/", 1)[0] + f"/{db}"
    try:
        for label, url, port in [("SQLite", sqlite, PORT_SQLITE), ("PostgreSQL", pg, PORT_PG)]:
            proc = start_service(auth_service, port, url, workdir)
            try:
                token = register_and_login(port, "benchme")
                results[label] = wrk(f"http://127.0.0.1:{port}/auth/me", duration, token=token)
            finally:
                proc.terminate()
                proc.wait()
    finally:
        sh("psql", pg_admin, "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    return results


LOGIN_LUA = r"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"stormuser","password":"correct horse battery"}'
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  statuses = {}
  polite = args[1] == "polite"
  last = 0
end
-- A polite client waits the Retry-After second after a 503; a hostile one retries at once.
function delay()
  if polite and last == 503 then return 1000 end
  return 0
end
function response(status, headers, body)
  last = status
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      io.write(string.format("status %d %d\n", status, n))
    end
  end
end
"""

# A light probe: each of its connections sends a request every 10 ms.
PROBE_LUA = r"""
function delay()
  return 10
end
"""


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+)", f.read()).group(1))


def storm(bench_server, auth_service, duration, workdir, round_no):
    # The raw loop runs before and after the storms; the ratio uses their mean, so that a
    # change in the shared machine's speed during the run moves both sides alike.
    floor_before = float(sh(bench_server, "argon2-floor", str(duration), "2"))
    proc = start_service(auth_service, PORT_STORM, f"sqlite://{workdir}/storm-{round_no}.db",
                         workdir, core=None)
    # The latency floor: a bare handler in another process, probed beside the auth service,
    # shows what the storm's load does to any request on this machine.
    bare_server = subprocess.Popen([bench_server, f"127.0.0.1:{PORT_BARE}"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_up(f"http://127.0.0.1:{PORT_BARE}/bare", bare_server)
        base = f"http://127.0.0.1:{PORT_STORM}"
        token = register_and_login(PORT_STORM, "stormuser")
        login_lua = os.path.join(workdir, "login.lua")
        probe_lua = os.path.join(workdir, "probe.lua")
        with open(login_lua, "w") as f:
            f.write(LOGIN_LUA)
        with open(probe_lua, "w") as f:
            f.write(PROBE_LUA)
        urls = {"me": (base + "/auth/me", token), "health": (base + "/health", None),
                "bare": (f"http://127.0.0.1:{PORT_BARE}/bare", None)}
        targets = [urls[name] for name, _ in PROBES]

        def probe_p99(seconds):
            return {name: r["p99"]
                    for (name, _), r in zip(PROBES, probes(targets, seconds, probe_lua))}

        result = {"idle_p99": probe_p99(duration),
                  "rss_idle_mib": peak_rss_kib(proc.pid) / 1024}
        for kind, connections in [("polite", 64), ("hostile", 32)]:
            storm_proc = subprocess.Popen(
                ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "-s", login_lua,
                 base + "/auth/login", "--", kind],
                stdout=subprocess.PIPE, text=True)
            time.sleep(0.5)
            p99 = probe_p99(max(1, duration - 1))
            out, _ = storm_proc.communicate()
            statuses = {int(s): int(n) for s, n in re.findall(r"status (\d+) (\d+)", out)}
            result[kind] = {
                "connections": connections,
                "logins": statuses.get(200, 0) / duration,
                "refused": statuses.get(503, 0) / duration,
                "other": {s: n for s, n in statuses.items() if s not in (200, 503)},
                "p99": p99,
            }
            time.sleep(1)
        result["rss_peak_mib"] = peak_rss_kib(proc.pid) / 1024
        floor_after = float(sh(bench_server, "argon2-floor", str(duration), "2"))
        result["floor"] = (floor_before + floor_after) / 2
        return result
    finally:
        for p in (bare_server, proc):
            p.terminate()
            p.wait()


def svg_bars(rows, title, path):
    """A horizontal bar chart, no dependencies."""
    width, bar, gap, left = 760, 22, 8, 290
    top = 40
    height = top + len(rows) * (bar + gap) + 20
    peak = max(v for _, v in rows)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="13">',
             f'<text x="10" y="22" font-size="15" font-weight="bold">{title}</text>']
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar + gap)
        w = (width - left - 90) * value / peak
        parts.append(f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{label}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" '
                     f'fill="{"#4a7" if label.startswith("ours") else "#889"}"/>')
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 16}">{value:,.0f}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def throughput_report(bench_server, args):
    results = throughput(bench_server, args.duration, args.rounds)
    bare = results["bare"]["rps"]
    lines = ["Server on core 0, wrk (1 thread, 32 connections) on core 1; medians of "
             f"{args.rounds} interleaved rounds of {args.duration} s.", "",
             "| variant | requests/s | ratio to bare | p99 latency |", "|---|---:|---:|---:|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['rps']:,.0f} | {r['rps'] / bare:.2f}x | {r['p99']:.2f} ms |")
    svg_bars([(n, r["rps"]) for n, r in results.items()],
             "Requests/s, one server core, same handler", os.path.join(args.out, "throughput.svg"))
    return lines


def me_report(auth_service, args, workdir):
    lines = ["", "`GET /auth/me` of the auth service (server on core 0, wrk on core 1, 32 "
             "connections; each request verifies the token, checks revocation and reads the "
             "user from the database):", "",
             "| database | requests/s | p50 | p99 |", "|---|---:|---:|---:|"]
    for label, r in auth_me(auth_service, args.duration, workdir).items():
        lines.append(f"| {label} | {r['rps']:,.0f} | {r['p50']:.2f} ms | {r['p99']:.2f} ms |")
    return lines


def median_and_range(values, fmt):
    """`median (min-max)`, or the value alone for one round."""
    values = sorted(values)
    median = fmt(statistics.median(values))
    return median if len(values) == 1 else f"{median} ({fmt(values[0])}-{fmt(values[-1])})"


def storm_report(bench_server, auth_service, args, workdir):
    # One storm is 5 s per kind; its p99 rests on ~1 000 probe requests and moves a lot from
    # run to run on a shared machine, so the storm is repeated `--rounds` times.
    runs = [storm(bench_server, auth_service, max(args.duration, 5), workdir, n)
            for n in range(args.rounds)]
    floors = [r["floor"] for r in runs]
    # The service reads these from the environment too; the report names what ran.
    threads = os.environ.get("AUTH__PASSWORD__MAX_CONCURRENT_HASHES", "2")
    nice = os.environ.get("AUTH__PASSWORD__HASH_THREAD_NICE", "10")

    def ms(v):
        return f"{v:.2f}"

    def times(v):
        return f"{v:.2f}x"

    def per_s(v):
        return f"{v:.1f}"

    def mib(v):
        return f"{v:.0f}"

    lines = ["", f"Login storm: the auth service on both cores (OWASP Argon2id, {threads} hashing "
             f"threads at nice {nice}, 8 queue places), wrk POSTing logins, and three light "
             "probes at once (2 connections each, one request per 10 ms per connection): "
             "`GET /auth/me` (token, revocation check and user read from the database), "
             "`GET /health` of the same process (no auth, no database), and `GET /bare` of a "
             "bench-server in another process (what the same load does to any request on this "
             "machine). Polite clients wait the `Retry-After` second after a 503; hostile ones "
             f"retry at once. {args.rounds} rounds, each on a fresh server and database: "
             "medians, with the range in brackets.", "",
             "Raw two-thread Argon2id verify loop (run before and after each round's storms, "
             f"the round's ratio taken to their mean): {median_and_range(floors, per_s)}/s. "
             "Server peak RSS: "
             f"{median_and_range([r['rss_idle_mib'] for r in runs], mib)} MiB before, "
             f"{median_and_range([r['rss_peak_mib'] for r in runs], mib)} MiB "
             "after.", "",
             "| storm | logins 200/s | ratio to the raw loop | refused 503/s | other |",
             "|---|---:|---:|---:|---|"]
    for kind in ("polite", "hostile"):
        # Each round's storm of this kind, beside that round's raw loop.
        rounds = [(r[kind], r["floor"]) for r in runs]
        other = [k["other"] for k, _ in rounds if k["other"]]
        lines.append(
            f"| {kind}, {rounds[0][0]['connections']} connections | "
            f"{median_and_range([k['logins'] for k, _ in rounds], per_s)} | "
            f"{median_and_range([k['logins'] / f for k, f in rounds], times)} | "
            f"{median_and_range([k['refused'] for k, _ in rounds], per_s)} | "
            f"{other or 'none'} |")
    lines += ["", "Probe p99 in ms, and each storm's p99 over the same probe's idle p99 in "
              "that round:", "",
              "| |" + "".join(f" {label} p99 | / idle |" for _, label in PROBES),
              "|---|" + "---:|---:|" * len(PROBES),
              "| idle |" + "".join(
                  f" {median_and_range([r['idle_p99'][name] for r in runs], ms)} | |"
                  for name, _ in PROBES)]
    for kind in ("polite", "hostile"):
        cells = []
        for name, _ in PROBES:
            cells.append(median_and_range([r[kind]["p99"][name] for r in runs], ms))
            cells.append(median_and_range(
                [r[kind]["p99"][name] / r["idle_p99"][name] for r in runs], times))
        lines.append(f"| {kind} storm | " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, "bench", "results"))
    parser.add_argument("--only", choices=["throughput", "me", "storm"],
                        help="run one part (for iterating; the report needs all three)")
    args = parser.parse_args()
    ensure_wrk()
    bench_server, auth_service = build()
    os.makedirs(args.out, exist_ok=True)
    workdir = tempfile.mkdtemp(prefix="auth-load-")
    only = f" --only {args.only}" if args.only else ""
    lines = [f"Load run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
             f"`python3 bench/load.py --duration {args.duration} --rounds {args.rounds}{only}`, "
             f"{os.cpu_count()} cores.", ""]

    if args.only in (None, "throughput"):
        lines += throughput_report(bench_server, args)
    if args.only in (None, "me"):
        lines += me_report(auth_service, args, workdir)
    if args.only in (None, "storm"):
        lines += storm_report(bench_server, auth_service, args, workdir)
    text = "\n".join(lines) + "\n"
    # A partial run writes beside the full report, never over it.
    report = f"load-{args.only}.md" if args.only else "load.md"
    with open(os.path.join(args.out, report), "w") as f:
        f.write(text)
    print(text)
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
