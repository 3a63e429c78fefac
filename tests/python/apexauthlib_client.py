"""The published apexauthlib 0.3.1 client, unchanged, against the running auth service.

Run by tests/tests/apexauthlib.rs in a venv it makes: AUTH_URL is the service, ADMIN_USER /
ADMIN_PASSWORD an admin, MEMBER_ID a plain user's id, CODE an authorization code of that user
for the client CLIENT_ID / CLIENT_SECRET. Prints "ok" when every call answered as
the client expects; any failure raises.
"""

import os
from collections.abc import Mapping
from typing import Any

from apexauthlib.entities.auth import FieldType, ServicePermission
from apexauthlib.integration.api import AuthApiProvider, AuthCodeApi, Unauthorized
from apexdevkit.http import FluentHttp, Httpx


class Values:
    """The service's per-user values, as plain dicts."""

    def load(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        return dict(raw)

    def dump(self, item: dict[str, Any]) -> Mapping[str, Any]:
        return item


def main() -> None:
    http = FluentHttp(Httpx.Builder().with_url(os.environ["AUTH_URL"]).build())
    provider = AuthApiProvider(http, "billing", Values())

    try:
        provider.login(os.environ["ADMIN_USER"], "wrong password")
        raise AssertionError("a wrong password logged in")
    except Unauthorized:
        pass
    token = provider.login(os.environ["ADMIN_USER"], os.environ["ADMIN_PASSWORD"])
    api = provider.for_token(token)

    me = api.user()
    assert me.username == os.environ["ADMIN_USER"], me
    assert me.is_admin, me
    assert me.hashed_password == "", "never a hash"

    wanted = [
        ServicePermission(
            name="billing.plan",
            label="Plan",
            description="The member's plan",
            type=FieldType.string,
            default="free",
            values=["free", "pro"],
        ),
        ServicePermission(
            name="billing.seats",
            label="Seats",
            description="How many seats",
            type=FieldType.integer,
            default=1,
        ),
        ServicePermission(
            name="billing.export",
            label="Export",
            description="May export invoices",
            type=FieldType.boolean,
            default=False,
        ),
    ]
    synced = api.update_permissions(wanted)
    assert sorted(p.name for p in synced) == ["billing.export", "billing.plan", "billing.seats"], synced
    plan = next(p for p in synced if p.name == "billing.plan")
    assert plan.values == ["free", "pro"] and plan.default == "free", plan
    # Dropping one deletes it (the client's sync: create and delete by name).
    synced = api.update_permissions(wanted[:2])
    assert sorted(p.name for p in synced) == ["billing.plan", "billing.seats"], synced

    member = os.environ["MEMBER_ID"]
    values = api.metadata_for(member)
    assert values == {"billing.plan": "free", "billing.seats": 1}, values
    info = api.full_metadata_for(member)
    assert info.user.id == member and not info.is_service_admin, info
    assert info.metadata == values, info
    users = {u.user.username: u for u in api.users_for_service()}
    assert os.environ["ADMIN_USER"] in users and users[os.environ["ADMIN_USER"]].user.is_admin, users
    assert any(u.user.id == member for u in users.values()), users

    # The OAuth code exchange, for a code the service issued to a registered client.
    codes = AuthCodeApi(http, os.environ["CLIENT_ID"], os.environ["CLIENT_SECRET"])
    member_token = codes.token_for(os.environ["CODE"])
    assert provider.for_token(member_token).user().id == member
    try:
        codes.token_for(os.environ["CODE"])
        raise AssertionError("a code was exchanged twice")
    except Unauthorized:
        pass

    bad = provider.for_token("not-a-token")
    try:
        bad.user()
        raise AssertionError("a bad token was accepted")
    except Unauthorized:
        pass
    print("ok")


if __name__ == "__main__":
    main()
