//! `GET /login`: a sign-in page for browsers. It lists the configured sign-in providers
//! (`[oidc.providers]`) as links that start a sign-in and come back here, completes a
//! second factor the sign-in asked for (the challenge arrives in the URL's fragment), and
//! shows who is signed in (the session cookie, through `GET /auth/me`).

use auth_axum::prelude::*;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY};
use axum::response::{Html, IntoResponse};

use crate::AppState;

/// Text safe inside HTML elements and quoted attributes.
fn escape(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&#39;".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// The page's script: the second factor's form when the fragment carries a challenge, and
/// the signed-in user.
const SCRIPT: &str = r#"
const params = new URLSearchParams(location.hash.slice(1));
history.replaceState(null, "", location.pathname);
const out = document.getElementById("me");
async function me() {
  const r = await fetch("/auth/me", {credentials: "same-origin"});
  out.textContent = r.ok ? "Signed in as " + (await r.json()).username : "Not signed in.";
}
if (params.get("mfa_token")) {
  const form = document.getElementById("mfa");
  form.hidden = false;
  form.onsubmit = async (e) => {
    e.preventDefault();
    const r = await fetch("/auth/mfa/verify", {method: "POST", credentials: "same-origin",
      headers: {"content-type": "application/json"},
      body: JSON.stringify({mfa_token: params.get("mfa_token"), code: form.code.value})});
    form.hidden = r.ok;
    if (!r.ok) out.textContent = (await r.json()).detail;
    else me();
  };
}
me();
"#;

/// `GET /login`: the sign-in page.
#[public]
pub(crate) async fn login(State(state): State<AppState>) -> impl IntoResponse {
    let links: String = state
        .auth
        .service()
        .sign_in_providers()
        .iter()
        .map(|p| {
            format!(
                "<li><a href=\"{}?return_to=/login\">Sign in with {}</a></li>",
                escape(&p.authorize_path),
                escape(&p.display_name)
            )
        })
        .collect();
    let links = if links.is_empty() {
        "<li>No sign-in provider is configured (<code>[oidc.providers]</code>).</li>".to_owned()
    } else {
        links
    };
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Sign in</title></head><body><h1>Sign in</h1><ul id=\"providers\">{links}</ul>\
         <form id=\"mfa\" hidden><label>Code from your authenticator app \
         <input name=\"code\" autocomplete=\"one-time-code\" inputmode=\"numeric\"></label>\
         <button>Verify</button></form><p id=\"me\"></p><script>{SCRIPT}</script></body></html>"
    );
    (
        [
            (CACHE_CONTROL, "no-store"),
            (
                CONTENT_SECURITY_POLICY,
                "default-src 'self'; script-src 'unsafe-inline'; frame-ancestors 'none'",
            ),
        ],
        Html(page),
    )
}
