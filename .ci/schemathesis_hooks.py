"""Schemathesis hooks for `.ci/fuzz`: authenticate as the principal named by FUZZ_PRINCIPAL.

Tokens are fetched by signing in (and, for the customer, signing up once) and refreshed on 401, because
fuzzed requests may legitimately revoke them (`POST /auth/logout` with `all: true`). The fuzzer may even
take the ADMIN account away (promote another ADMIN, then delete this one): the account is then put back
directly in the database, with a bcrypt hash computed by the caller, so the run keeps its credentials.
"""

import datetime
import os

import pymongo
import requests
import schemathesis

BASE_URL = os.environ["FUZZ_BASE_URL"]
PRINCIPAL = os.environ.get("FUZZ_PRINCIPAL", "admin")
ADMIN_EMAIL = os.environ["FUZZ_ADMIN_EMAIL"]
ADMIN_PASSWORD = os.environ["FUZZ_ADMIN_PASSWORD"]
CUSTOMER_EMAIL = "fuzz.customer@example.com"
CUSTOMER_PASSWORD = "fuzz customer password"


def _signin(kind: str, email: str, password: str) -> str:
    response = requests.post(f"{BASE_URL}/{kind}/signin", json={"email": email, "password": password}, timeout=10)
    response.raise_for_status()
    return response.json()["token"]


def _restore_admin() -> None:
    now = datetime.datetime.now(datetime.timezone.utc)
    users = pymongo.MongoClient(os.environ["FUZZ_DB_URI"]).get_default_database()["users"]
    users.update_one(
        {"email": ADMIN_EMAIL},
        {
            "$set": {"role": "ADMIN", "password_hash": os.environ["FUZZ_ADMIN_HASH"], "updated_at": now},
            "$inc": {"token_version": 1},
            "$setOnInsert": {"name": "Fuzz Admin", "created_at": now},
        },
        upsert=True,
    )


def _admin_token() -> str:
    try:
        return _signin("user", ADMIN_EMAIL, ADMIN_PASSWORD)
    except requests.HTTPError:
        _restore_admin()
        return _signin("user", ADMIN_EMAIL, ADMIN_PASSWORD)


def _customer_token() -> str:
    requests.post(
        f"{BASE_URL}/customer/signup",
        json={"name": "Fuzz Customer", "email": CUSTOMER_EMAIL, "password": CUSTOMER_PASSWORD},
        timeout=10,
    )  # 201 the first time, 409 afterwards: either way the account exists
    return _signin("customer", CUSTOMER_EMAIL, CUSTOMER_PASSWORD)


@schemathesis.auth(refresh_interval=30)
class CrmAuth:
    def get(self, case, context):
        if PRINCIPAL == "customer":
            return _customer_token()
        return _admin_token()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["token"] = data
