#!/usr/bin/env python3
"""Ours against fastapi-users, side by side in one run, on 127.0.0.1 and SQLite.

    python3 bench/python_compare.py [--duration SECONDS] [--flows N] [--out DIR]

Installs fastapi-users (pinned versions, PyPI) into a throwaway virtual environment, serves
bench/fastapi_users_app.py with uvicorn (one worker) and our example auth service, each on
core 0 with its own SQLite file, both with Argon2id at 19 MiB, t=2, p=1. Then:

1. `--flows` register / login / me flows, alternating between the two servers: the median
   latency of each step, as one client sees it;
2. `GET` of the current user (`/users/me` there, `/auth/me` here: token verified, user read
   from the database) under wrk (core 1, 32 connections), interleaved, three rounds.

Writes `python.md` into `--out` (default bench/results) and prints it.
"""
import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import load  # noqa: E402  (the load script's helpers)

PACKAGES = ["fastapi-users[sqlalchemy]==15.0.5", "fastapi-users-db-sqlalchemy==7.0.0",
            "fastapi==0.165.0", "uvicorn==0.54.0", "aiosqlite==0.22.1"]
PORT_PY = 18094
PORT_OURS = 18095
BENCH = os.path.dirname(os.path.abspath(__file__))


def timed(request):
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as resp:
        body = resp.read()
    return time.perf_counter() - started, body


def json_request(url, body=None, token=None, form=None):
    headers = {}
    data = None
    if body is not None:
        data = load.json.dumps(body).encode()
        headers["content-type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    if token:
        headers["authorization"] = f"Bearer {token}"
    return urllib.request.Request(url, data=data, headers=headers,
                                  method="POST" if data else "GET")


def flow_python(i):
    base = f"http://127.0.0.1:{PORT_PY}"
    email = f"user{i}@example.com"
    reg, _ = timed(json_request(base + "/auth/register",
                                {"email": email, "password": load.PASSWORD}))
    login, body = timed(json_request(base + "/auth/jwt/login",
                                     form={"username": email, "password": load.PASSWORD}))
    token = load.json.loads(body)["access_token"]
    me, _ = timed(json_request(base + "/users/me", token=token))
    return reg, login, me, token


def flow_ours(i):
    base = f"http://127.0.0.1:{PORT_OURS}"
    reg, _ = timed(json_request(base + "/auth/register", {
        "username": f"user{i}", "email": f"user{i}@example.com", "password": load.PASSWORD}))
    login, body = timed(json_request(base + "/auth/login",
                                     {"username": f"user{i}", "password": load.PASSWORD}))
    token = load.json.loads(body)["access_token"]
    me, _ = timed(json_request(base + "/auth/me", token=token))
    return reg, login, me, token


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--flows", type=int, default=20)
    parser.add_argument("--out", default=os.path.join(BENCH, "results"))
    args = parser.parse_args()
    load.ensure_wrk()
    _, auth_service = load.build()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="auth-python-")
    venv = os.path.join(work, "venv")
    print("installing fastapi-users into a throwaway virtual environment", file=sys.stderr)
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", *PACKAGES], check=True)
    env = dict(os.environ, FU_DATABASE=os.path.join(work, "fastapi-users.db"),
               FU_SECRET=secrets.token_urlsafe(48))
    python = subprocess.Popen(
        ["taskset", "-c", "0", os.path.join(venv, "bin", "uvicorn"), "fastapi_users_app:app",
         "--host", "127.0.0.1", "--port", str(PORT_PY), "--workers", "1",
         "--log-level", "warning"],
        cwd=BENCH, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ours = None
    try:
        load.wait_up(f"http://127.0.0.1:{PORT_PY}/docs", python)
        ours = load.start_service(auth_service, PORT_OURS, f"sqlite://{work}/ours.db", work)
        steps = {"fastapi-users": [], "ours": []}
        tokens = {}
        for i in range(args.flows):
            for name, flow in [("fastapi-users", flow_python), ("ours", flow_ours)]:
                *times, tokens[name] = flow(i)
                steps[name].append(times)
        me_paths = {"fastapi-users": f"http://127.0.0.1:{PORT_PY}/users/me",
                    "ours": f"http://127.0.0.1:{PORT_OURS}/auth/me"}
        loads = {name: [] for name in me_paths}
        for _ in range(3):
            for name, url in me_paths.items():
                loads[name].append(load.wrk(url, args.duration, token=tokens[name]))
    finally:
        python.terminate()
        python.wait()
        if ours:
            ours.terminate()
            ours.wait()
    lines = [f"Ours against fastapi-users 15.0.5 (uvicorn 0.54, one worker), "
             f"`python3 bench/python_compare.py --duration {args.duration} --flows {args.flows}`, "
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. Both servers on core 0, "
             "SQLite, Argon2id 19 MiB / t=2 / p=1.", "",
             f"Median latency of each step over {args.flows} register / login / me flows "
             "(one client, alternating between the servers):", "",
             "| step | fastapi-users | ours | ratio |", "|---|---:|---:|---:|"]
    for index, step in enumerate(["register", "login", "me"]):
        py = statistics.median(t[index] for t in steps["fastapi-users"]) * 1e3
        us = statistics.median(t[index] for t in steps["ours"]) * 1e3
        lines.append(f"| {step} | {py:.2f} ms | {us:.2f} ms | {py / us:.1f}x faster |")
    lines += ["", "Current user under load (wrk on core 1, 32 connections, medians of 3 "
              f"interleaved rounds of {args.duration} s):", "",
              "| server | requests/s | p50 | p99 |", "|---|---:|---:|---:|"]
    for name, runs in loads.items():
        rps = statistics.median(r["rps"] for r in runs)
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        lines.append(f"| {name} | {rps:,.0f} | {p50:.2f} ms | {p99:.2f} ms |")
    py_rps = statistics.median(r["rps"] for r in loads["fastapi-users"])
    our_rps = statistics.median(r["rps"] for r in loads["ours"])
    lines += ["", f"Ours serves {our_rps / py_rps:.1f}x the requests per second."]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "python.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
