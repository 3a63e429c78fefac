#!/usr/bin/env python3
"""Build cost of the guard macros: the same crate of 200 guarded handlers, once with
`#[require_permissions]` and once with hand-written extractors on the same runtime, compiled
in one run, interleaved, `--rounds` times (dev profile, dependencies already built; only the
crate itself is rebuilt). Prints the median times and their ratio.

    python3 bench/build_cost.py [--handlers 200] [--rounds 3]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

MANIFEST = """[package]
name = "{name}"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
auth-axum = {{ path = "{root}/auth-axum" }}
axum = {{ version = "0.8", features = ["macros"] }}
"""


def routes(n):
    """`routes(module)`: every generated handler on its own path."""
    return (["/// Every handler.", "pub fn routes(module: AuthModule) -> Router {",
             "    Router::new()"]
            + [f'        .route("/h{i}", get(h{i}))' for i in range(n)]
            + ["        .with_state(module)", "}"])


def guarded(n):
    out = ["//! Generated: handlers behind the guard macro.", "",
           "use auth_axum::AuthModule;", "use axum::{routing::get, Router};", ""]
    for i in range(n):
        out += [f'#[auth_axum::require_permissions("articles.p{i}")]',
                f"async fn h{i}() -> &'static str {{", '    "ok"', "}", ""]
    return "\n".join(out + routes(n)) + "\n"


def hand_written(n):
    """What the guard does, by hand on the same runtime (as `tests::guarded`'s `CanRead`)."""
    out = ["//! Generated: handlers behind hand-written extractors.", "",
           "use auth_axum::{AuthModule, Authenticated, Problem};",
           "use axum::extract::{FromRef, FromRequestParts};",
           "use axum::http::request::Parts;", "use axum::{routing::get, Router};", ""]
    for i in range(n):
        out += [f"struct Can{i};", "",
                f"impl<S: Send + Sync> FromRequestParts<S> for Can{i}",
                "where", "    AuthModule: FromRef<S>,", "{", "    type Rejection = Problem;", "",
                "    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Problem> {",
                "        let principal = Authenticated::from_request_parts(parts, state)",
                "            .await?",
                "            .principal();",
                "        let roles = AuthModule::from_ref(state).authorization().roles();",
                f'        if roles.has_permission(&principal.roles, &principal.permissions, "articles.p{i}") {{',
                "            Ok(Self)", "        } else {",
                f'            Err(Problem::forbidden("requires permission `articles.p{i}`"))',
                "        }", "    }", "}", "",
                f"async fn h{i}(_: Can{i}) -> &'static str {{", '    "ok"', "}", ""]
    return "\n".join(out + routes(n)) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--handlers", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="auth-build-cost-")
    try:
        crates = {"macro_guards": guarded(args.handlers),
                  "hand_written": hand_written(args.handlers)}
        with open(os.path.join(work, "Cargo.toml"), "w") as f:
            f.write('[workspace]\nmembers = ["macro_guards", "hand_written"]\nresolver = "2"\n')
        shutil.copy(os.path.join(ROOT, "Cargo.lock"), os.path.join(work, "Cargo.lock"))
        for name, source in crates.items():
            os.makedirs(os.path.join(work, name, "src"))
            with open(os.path.join(work, name, "Cargo.toml"), "w") as f:
                f.write(MANIFEST.format(name=name, root=ROOT))
            with open(os.path.join(work, name, "src", "lib.rs"), "w") as f:
                f.write(source)
        # No incremental compilation: each build compiles the crate in full.
        env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(work, "target"),
                   CARGO_INCREMENTAL="0")
        # Dependencies once, and each crate once (checks that both compile).
        subprocess.run(["cargo", "build", "--workspace", "-q"], cwd=work, env=env, check=True)
        times = {name: [] for name in crates}
        for _ in range(args.rounds):
            for name in crates:
                os.utime(os.path.join(work, name, "src", "lib.rs"))
                started = time.monotonic()
                subprocess.run(["cargo", "build", "-p", name, "-q"], cwd=work, env=env,
                               check=True)
                times[name].append(time.monotonic() - started)
        macro = statistics.median(times["macro_guards"])
        hand = statistics.median(times["hand_written"])
        print(f"| crate ({args.handlers} handlers, dev profile) | median build | runs |")
        print("|---|---:|---|")
        for name, label in [("macro_guards", "`#[require_permissions]`"),
                            ("hand_written", "hand-written extractors")]:
            runs = ", ".join(f"{t:.2f}" for t in times[name])
            print(f"| {label} | {statistics.median(times[name]):.2f} s | {runs} |")
        print(f"\nratio macro / hand-written: {macro / hand:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
