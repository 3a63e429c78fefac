"""Validates the OpenAPI document at OPENAPI_URL against the OpenAPI 3.1 schema
(openapi-spec-validator, from PyPI); prints `ok`."""

import json
import os
import urllib.request

from openapi_spec_validator import validate

with urllib.request.urlopen(os.environ["OPENAPI_URL"]) as response:
    spec = json.load(response)
validate(spec)
assert spec["openapi"].startswith("3.1"), spec["openapi"]
print("ok")
