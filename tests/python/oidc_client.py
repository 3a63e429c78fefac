"""Authlib (a Python OAuth/OpenID Connect client), unchanged, against the running service.

Run by tests/tests/openid_client.rs in a venv it makes. ISSUER is the service, CLIENT_ID /
CLIENT_SECRET a confidential client redirecting to REDIRECT_URI, USERNAME / PASSWORD a user.
Discovery, the authorization code with PKCE and a nonce (the sign-in page driven as a browser
would), the ID token checked against the published keys, refresh, userinfo, introspection and
revocation. Prints "ok" when everything answered as the client expects; any failure raises.
"""

import os
import re
from urllib.parse import parse_qs, urlparse

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.jose import JsonWebKey, jwt
from authlib.oidc.core import CodeIDToken


def sign_in(url: str) -> str:
    """The browser: the page, the password, allow; the redirect it ends on."""
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        request = re.search(r'name="request" value="([^"]+)"', page.text).group(1)
        answer = browser.post(
            url.split("?")[0],
            data={
                "request": request,
                "username": os.environ["USERNAME"],
                "password": os.environ["PASSWORD"],
                "action": "allow",
            },
        )
        assert answer.status_code == 303, answer.text
        return answer.headers["location"]


def main() -> None:
    issuer = os.environ["ISSUER"]
    meta = httpx.get(f"{issuer}/.well-known/openid-configuration").json()
    assert meta["issuer"] == issuer, meta
    assert "S256" in meta["code_challenge_methods_supported"], meta

    client = OAuth2Client(
        client_id=os.environ["CLIENT_ID"],
        client_secret=os.environ["CLIENT_SECRET"],
        scope="openid profile email",
        redirect_uri=os.environ["REDIRECT_URI"],
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = generate_token(64)
    nonce = generate_token(20)
    url, state = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    back = sign_in(url)
    query = parse_qs(urlparse(back).query)
    assert query["state"] == [state] and query["iss"] == [issuer], query

    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=back, code_verifier=verifier
    )
    keys = JsonWebKey.import_key_set(httpx.get(meta["jwks_uri"]).json())
    claims = jwt.decode(
        token["id_token"],
        keys,
        claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": issuer}},
        claims_params={"nonce": nonce, "client_id": os.environ["CLIENT_ID"]},
    )
    claims.validate()
    assert claims["preferred_username"] == os.environ["USERNAME"], claims
    assert claims["amr"] == ["pwd"], claims

    info = client.get(meta["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["email"] == claims["email"], info

    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]

    introspected = client.introspect_token(
        meta["introspection_endpoint"], token=refreshed["access_token"]
    ).json()
    assert introspected["active"] and introspected["client_id"] == os.environ["CLIENT_ID"], introspected

    revoked = client.revoke_token(
        meta["revocation_endpoint"],
        token=refreshed["refresh_token"],
        token_type_hint="refresh_token",
    )
    assert revoked.status_code == 200, revoked.text
    after = client.introspect_token(
        meta["introspection_endpoint"], token=refreshed["access_token"]
    ).json()
    assert after == {"active": False}, after
    print("ok")


if __name__ == "__main__":
    main()
