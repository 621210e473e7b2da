"""Schemathesis hooks for `.ci/fuzz`: authenticate as the principal named by FUZZ_PRINCIPAL, and make the ids
that a request names in its body or query as references to other records name existing ones.

Tokens are fetched by signing in (and, for the customer, signing up once) and refreshed on 401, because
fuzzed requests may legitimately revoke them (`POST /auth/logout` with `all: true`). The fuzzer may even
take the ADMIN account away (promote another ADMIN, then delete this one): the account is then put back
directly in the database, with a bcrypt hash computed by the caller, so the run keeps its credentials.
"""

import datetime
import os
import re
import time
import uuid

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


def _customer_signin() -> dict:
    requests.post(
        f"{BASE_URL}/customer/signup",
        json={"name": "Fuzz Customer", "email": CUSTOMER_EMAIL, "password": CUSTOMER_PASSWORD},
        timeout=10,
    )  # 201 the first time (or after the fuzzer deleted it), 409 afterwards: either way the account exists
    response = requests.post(
        f"{BASE_URL}/customer/signin", json={"email": CUSTOMER_EMAIL, "password": CUSTOMER_PASSWORD}, timeout=10
    )
    response.raise_for_status()
    return response.json()


def _customer_token() -> str:
    return _customer_signin()["token"]


# A customer, staff user or assignee named in a body or query (`customer_id` of a new interaction, `owner_id`,
# `assigned_to`, `reassign_to`, …) must exist, or the service answers 400 for that field: something no schema
# can say, and that random ids never satisfy. So a well-formed id there is swapped for an existing record's
# (the fuzz ADMIN; as ADMIN a customer created for the purpose, as the customer itself; looked up again every
# 30 s, as the fuzzer may delete them). The ADMIN pass never names the customer principal: it would then reach
# that record through links and could change its password, locking the customer pass out. Malformed
# values are left alone, for the validation to refuse. Path ids stay random: those answer 404.
REFERENCES = {
    "customer_id": "customer",
    "owner_id": "user",
    "user_id": "user",
    "assigned_to": "user",
    "reassign_to": "user",
}
OBJECT_ID = re.compile(r"^[0-9a-fA-F]{24}$")
IDEMPOTENCY_KEY = re.compile(r'^(?!""$)[\x20-\x7e]*[\x21-\x7e][\x20-\x7e]*$')
_existing: dict = {"at": 0.0}


def _reference_customer(admin_token: str) -> str:
    if PRINCIPAL == "customer":
        return _customer_signin()["customer"]["id"]
    email = f"fuzz.reference.{uuid.uuid4().hex}@example.com"
    response = requests.post(
        f"{BASE_URL}/customers", headers={"token": admin_token}, json={"name": "Fuzz Reference", "email": email}, timeout=10
    )
    response.raise_for_status()
    return response.json()["id"]


def _existing_ids() -> dict:
    if time.monotonic() - _existing["at"] > 30:
        try:
            token = _admin_token()
            me = requests.get(f"{BASE_URL}/me", headers={"token": token}, timeout=10).json()
            _existing.update(user=me["id"], customer=_reference_customer(token), at=time.monotonic())
        except (requests.RequestException, KeyError, ValueError):
            pass  # keep the ids known so far; the next call tries again
    return _existing


# A webhook endpoint's URL must resolve to an address the service may call (DNS, then the SSRF guard): random
# host names resolve to nothing here, so a well-formed http(s) URL is swapped for a local one (the fuzz server
# runs with WEBHOOK_ALLOW_PRIVATE=true; its deliveries fail and retry, which is fine). Malformed URLs stay.
FUZZ_WEBHOOK_URL = "http://127.0.0.1:9/fuzz-receiver"


def _with_reachable_url(case):
    if not case.path.startswith("/webhooks") or not isinstance(case.body, dict):
        return
    url = case.body.get("url")
    if isinstance(url, str) and re.match(r"^https?://[^/?#@\s]+", url):
        case.body["url"] = FUZZ_WEBHOOK_URL


# A period's `from` must come before its `to` (and analytics periods end today at the latest by default and
# span at most 3,660 days): order rules between two parameters that no schema can state. Two parseable dates
# out of order are swapped; a lone analytics `from` in the future, or a span past the limit, is moved into
# range. Unparseable values stay, for the validation to refuse.
MAX_PERIOD_DAYS = 3660


def _parse_instant(value):
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _ordered_period(case):
    query = case.query
    if not isinstance(query, dict):
        return
    start, end = _parse_instant(query.get("from")), _parse_instant(query.get("to"))
    if start and end and start > end:
        query["from"], query["to"] = query["to"], query["from"]
        start, end = end, start
    if start and end and start == end and not case.path.startswith("/analytics"):
        query.pop("to")  # the activity trail wants from < to; an analytics period of one day is fine
        end = None
    if not case.path.startswith("/analytics"):
        return
    last = end.date() if end else datetime.datetime.now(datetime.timezone.utc).date()
    if start and start.date() > last:
        query["from"] = last.isoformat()
    elif start and (last - start.date()).days >= MAX_PERIOD_DAYS:
        query["from"] = (last - datetime.timedelta(days=MAX_PERIOD_DAYS - 1)).isoformat()


# A new API key's `expires_at` must lie in the future: a parseable date in the past is moved a year ahead.
def _future_expiry(case):
    if case.path != "/api-keys" or not isinstance(case.body, dict):
        return
    expires = _parse_instant(case.body.get("expires_at"))
    now = datetime.datetime.now(datetime.timezone.utc)
    if expires and expires <= now:
        case.body["expires_at"] = (now + datetime.timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _with_existing_ids(container):
    if not isinstance(container, dict):
        return
    existing = _existing_ids()
    for field, kind in REFERENCES.items():
        value = container.get(field)
        if isinstance(value, str) and OBJECT_ID.match(value) and existing.get(kind):
            container[field] = existing[kind]


def _disposable_customer() -> str | None:
    try:
        return _reference_customer(_admin_token())
    except (requests.RequestException, KeyError, ValueError):
        return None


# A merge's sources must be live customers other than the target, and `prefer` may name only one of them: rules no
# schema can state. Well-formed source ids become customers created for the call (the merge trashes them, so
# never the shared reference records), the same generated id the same customer (a repeat stays a repeat, for
# its 400), and a well-formed `prefer` id one of those sources. Customers cannot merge: their pass is left alone.
def _with_merge_sources(case):
    body = case.body
    if PRINCIPAL == "customer" or not isinstance(body, dict) or not isinstance(body.get("source_ids"), list):
        return
    fresh: dict = {}
    for index, value in enumerate(body["source_ids"]):
        if isinstance(value, str) and OBJECT_ID.match(value):
            if value not in fresh:
                fresh[value] = _disposable_customer() or value
            body["source_ids"][index] = fresh[value]
    prefer = body.get("prefer")
    if isinstance(prefer, dict) and fresh:
        for field, value in prefer.items():
            if isinstance(value, str) and OBJECT_ID.match(value):
                prefer[field] = fresh.get(value, next(iter(fresh.values())))


@schemathesis.hook
def before_call(context, case, kwargs):
    _with_existing_ids(case.body)
    _with_merge_sources(case)
    _with_existing_ids(case.query)
    _with_reachable_url(case)
    _ordered_period(case)
    _future_expiry(case)
    # Deleting the fuzz ADMIN itself (a link gives its id) cannot hand its records to itself (400): no reassign_to.
    if isinstance(case.query, dict) and (case.path_parameters or {}).get("user_id") == _existing.get("user"):
        case.query.pop("reassign_to", None)
    # `after` is an opaque keyset cursor that only a list's `next` link gives (base64url JSON naming the sort
    # field, a value and an id, so it fits no pattern): a generated one is refused with 400 whatever the
    # document says. The paging tests cover cursors; here lists are fuzzed on their other parameters.
    if isinstance(case.query, dict):
        case.query.pop("after", None)
    # An Idempotency-Key names one request: the same key with another request answers 422 by design, and
    # generated keys repeat (the document's example in every operation, "0" again and again). Each call gets a
    # key of its own; a malformed one is left for the 400 it deserves.
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and IDEMPOTENCY_KEY.match(key):
        case.headers["Idempotency-Key"] = str(uuid.uuid4())


@schemathesis.hook
def after_call(context, case, response):
    # The fuzzer may have deleted a referenced record since it was looked up (DELETE /customers/{id} through a
    # link): a 400 naming a reference field sends the next call to look the ids up again, not 30 s later.
    if response.status_code != 400:
        return
    try:
        details = response.json().get("details") or []
    except ValueError:
        return
    if any(isinstance(d, dict) and d.get("field") in REFERENCES for d in details):
        _existing["at"] = 0.0


@schemathesis.auth(refresh_interval=30)
class CrmAuth:
    def get(self, case, context):
        if PRINCIPAL == "customer":
            return _customer_token()
        return _admin_token()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["token"] = data
