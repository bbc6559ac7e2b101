"""The Resource Groups Tagging API's ``GetResources`` (awsJson 1.1, signing
name ``tagging``), for the resources this emulator serves itself: EMR
Serverless applications and job runs.

moto has a Tagging API, but it only knows backends built on its
``TaggableResourcesMixin``, which neither its EMR Serverless nor its IAM
backend is, and it ends the last page with a ``null`` token where AWS sends
``""`` (tests/emulator/README.md, "Resource Groups Tagging API"). So the front layer routes the ``tagging``
service here.

Behaviour, with the evidence each rule rests on (botocore's model
``resourcegroupstaggingapi/2017-01-26``, cited as API; issue 14's evidence
file, copied into tests/emulator/README.md, "Resource Groups Tagging API"):

- Returns "all the tagged or previously tagged resources ... in the specified
  AWS Region for the account"; never untagged ones (API, YACE #185).
- ``TagFilters``: AND across filters, OR across a filter's values, a filter
  without values matches any value of that key; with a filter, only
  resources that *currently* carry a matching tag. Without filters,
  previously tagged resources come back with ``"Tags": []`` (API).
- ``ResourceTypeFilters``: ``service[:type]`` as embedded in the ARN (API);
  EMR Serverless application ARNs are ``...:/applications/ID``. Whether
  ``emr-serverless:applications`` also matches job runs
  (``.../applications/ID/jobruns/JR``) is unknown (tests/emulator/README.md, "Resource Groups Tagging API"), so this
  emulator assumes the worse case for clients: it does.
- IAM roles are never returned: "The GetResources operation does not
  currently support IAM users and roles" (supported-services page,
  aws/aws-sdk#581).
- Pages: ``ResourcesPerPage`` 1-100 (default 50 here, as moto; AWS does not
  document it), ``TagsPerPage`` 100-500 without splitting a resource's tags;
  the last page's ``PaginationToken`` is ``""`` (c7n placebo recordings);
  a token lives 15 minutes, then ``PaginationTokenExpiredException`` (API).
  "A query can return fewer than this maximum, even if there are more
  results still to return" (API, ResourcesPerPage): pages are full unless
  ``pageSizes`` says otherwise (``POST /_emulator/tagging``), a list of
  sizes for a listing's first pages, 0 for an empty page with a token.
- ``ResourceARNList`` (1-100 ARNs) cannot be combined with the filters or
  paging parameters: ``InvalidParameterException``; an unknown ARN is simply
  left out (API).
- Stale entries: AWS's index can return deleted resources for a while
  ("sometimes we get stale resources as part of the response", aws/aws-sdk#302;
  boto3#3341). A deleted (TERMINATED) application and its job runs stay in
  the results, with the tags they had, for ``staleSeconds`` after the
  deletion (default 3; ``POST /_emulator/tagging``).
- The opposite lag: the index is eventually consistent (aws/aws-sdk#302), so
  a tag set a moment ago may not be returned yet; AWS publishes no figure.
  With ``indexDelaySeconds`` (default 0) the results show every resource
  with the tags it had that many seconds ago: a resource created or first
  tagged more recently is missing, an untagged one still listed with its
  old tags.
- Access denied is the common ``AccessDeniedException`` with HTTP 400
  (aws/copilot-cli#444); tests produce it with a fault rule on service
  ``tagging``, operation ``GetResources``. Throttling is
  ``ThrottledException`` at 15 calls per second (Tag Editor quotas), in the
  front layer's rate limiter.

The configuration is the server's, or one account's when the body names
an ``account`` (so concurrent tests in other accounts are not affected).

Not emulated: resources of other services (moto's own, reachable only for
its mixin backends, are not merged in), ``IncludeComplianceDetails``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import threading
import time
from typing import Any, Callable

from werkzeug.wrappers import Request, Response

from . import protocols

TARGET_PREFIX = "ResourceGroupsTaggingAPI_20170126."
DEFAULT_RESOURCES_PER_PAGE = 50
TOKEN_LIFETIME_SECONDS = 15 * 60
DEFAULT_STALE_SECONDS = 3.0
DEFAULTS: dict[str, Any] = {"staleSeconds": DEFAULT_STALE_SECONDS, "indexDelaySeconds": 0.0, "pageSizes": []}


class TaggingError(Exception):
    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def _invalid(message: str) -> TaggingError:
    return TaggingError("InvalidParameterException", message)


class TaggingApi:
    """GetResources over the EMR Serverless backend.

    ``resources(account, region)`` returns every application and job run of
    the region, in creation order, as ``(arn, tags, deleted_at or None)``.
    """

    def __init__(self, resources: Callable[[str, str], list[tuple[str, dict[str, str], float | None]]],
                 clock: Callable[[], float] = time.time) -> None:
        self._resources = resources
        self._clock = clock
        self._lock = threading.Lock()
        self._defaults: dict[str, Any] = dict(DEFAULTS)
        # Settings of single accounts, over the defaults.
        self._accounts: dict[str, dict[str, Any]] = {}
        # ARNs that have carried at least one tag, per (account, region).
        self._ever_tagged: dict[tuple[str, str], set[str]] = {}
        # Every tag set of every resource with when it was seen, per
        # (account, region) and ARN: the index's view lags behind it.
        self._history: dict[tuple[str, str], dict[str, list[tuple[float, dict[str, str]]]]] = {}

    # --- configuration (control API) ------------------------------------------

    def reset_config(self) -> None:
        with self._lock:
            self._defaults = dict(DEFAULTS)
            self._accounts.clear()

    def reset_state(self) -> None:
        with self._lock:
            self._ever_tagged.clear()
            self._history.clear()

    def settings(self, account: str) -> dict[str, Any]:
        with self._lock:
            return {**self._defaults, **self._accounts.get(account, {})}

    def configure(self, data: Any) -> dict[str, Any]:
        """``{"account"?, "staleSeconds"?, "indexDelaySeconds"?, "pageSizes"?}``:
        the server's settings, or one account's. Returns the settings."""
        if data is None:
            with self._lock:
                return {**self._defaults, "accounts": {k: dict(v) for k, v in self._accounts.items()}}
        if not isinstance(data, dict) or set(data) - {"account", *DEFAULTS}:
            raise ValueError('send {"account"?, "staleSeconds"?, "indexDelaySeconds"?, "pageSizes"?}')
        account = data.get("account")
        if account is not None and not isinstance(account, str):
            raise ValueError("account is a string")
        update: dict[str, Any] = {}
        for key in ("staleSeconds", "indexDelaySeconds"):
            if key in data:
                value = data[key]
                if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                    raise ValueError(f"{key} must be a number, 0 or more")
                update[key] = float(value)
        if "pageSizes" in data:
            sizes = data["pageSizes"]
            if not isinstance(sizes, list) or len(sizes) > 1000 or not all(
                isinstance(n, int) and not isinstance(n, bool) and 0 <= n <= 100 for n in sizes
            ):
                raise ValueError("pageSizes must be a list of page sizes from 0 to 100")
            update["pageSizes"] = list(sizes)
        with self._lock:
            if account is None:
                self._defaults.update(update)
                return dict(self._defaults)
            self._accounts.setdefault(account, {}).update(update)
        return self.settings(account)

    def remember(self, account: str, region: str) -> None:
        """Records which resources carry tags now, so that they count as
        "previously tagged" once untagged, and every change of their tags,
        for the index's lag. The front layer calls it after every served EMR
        Serverless call that can change tags."""
        now = self._clock()
        with self._lock:
            history = self._history.setdefault((account, region), {})
            for arn, tags, _ in self._resources(account, region):
                seen = history.get(arn)
                if (seen[-1][1] if seen else {}) != tags:
                    history.setdefault(arn, []).append((now, dict(tags)))
                if tags:
                    self._ever_tagged.setdefault((account, region), set()).add(arn)

    def backdate(self, account: str, region: str, seconds: float) -> None:
        """Moves every tag change of the account's resources ``seconds``
        into the past, with the applications' timestamps (the control API's
        ``/_emulator/backdate``)."""
        with self._lock:
            for changes in self._history.get((account, region), {}).values():
                changes[:] = [(at - seconds, tags) for at, tags in changes]

    def _indexed(self, account: str, region: str, arn: str, tags: dict[str, str], horizon: float | None
                 ) -> tuple[bool, dict[str, str]]:
        """(whether the index knows the resource as tagged or previously
        tagged, the tags it holds) at ``horizon``; ``None`` for now."""
        with self._lock:
            ever = arn in self._ever_tagged.get((account, region), ())
            changes = list(self._history.get((account, region), {}).get(arn, ()))
        if horizon is None:
            return ever or bool(tags), tags
        seen = [change for at, change in changes if at <= horizon]
        if not seen:
            return False, {}
        return any(seen), seen[-1]

    # --- the API ----------------------------------------------------------------

    def handle(self, request: Request, account: str, region: str) -> Response:
        target = request.headers.get("X-Amz-Target", "")
        operation = target[len(TARGET_PREFIX):] if target.startswith(TARGET_PREFIX) else target
        try:
            if operation != "GetResources":
                raise TaggingError("UnknownOperationException", f"{operation or 'the operation'} is not emulated", 400)
            try:
                body = json.loads(request.get_data(cache=True) or b"{}")
            except ValueError:
                raise TaggingError("SerializationException", "the body is not JSON") from None
            if not isinstance(body, dict):
                raise TaggingError("SerializationException", "the body is not a JSON object")
            result = self.get_resources(account, region, body)
        except TaggingError as e:
            return protocols.error_response("tagging", e.status, e.code, e.message)
        return Response(
            json.dumps(result),
            status=200,
            headers={"x-amzn-RequestId": protocols.new_request_id()},
            content_type="application/x-amz-json-1.1",
        )

    def get_resources(self, account: str, region: str, body: dict[str, Any]) -> dict[str, Any]:
        arn_list = body.get("ResourceARNList")
        paging_keys = ("ResourceTypeFilters", "TagFilters", "ResourcesPerPage", "TagsPerPage", "PaginationToken")
        if arn_list is not None:
            if any(body.get(key) not in (None, [], "") for key in paging_keys):
                raise _invalid("ResourceARNList cannot be combined with ResourceTypeFilters, TagFilters, "
                               "ResourcesPerPage, TagsPerPage or PaginationToken")
            if not isinstance(arn_list, list) or not 1 <= len(arn_list) <= 100 or not all(isinstance(a, str) for a in arn_list):
                raise _invalid("ResourceARNList must hold 1 to 100 ARNs")
        tag_filters = _tag_filters(body.get("TagFilters"))
        type_filters = _type_filters(body.get("ResourceTypeFilters"))
        per_page = _int_in(body, "ResourcesPerPage", 1, 100)
        tags_per_page = _int_in(body, "TagsPerPage", 100, 500)
        query = json.dumps([tag_filters, type_filters, per_page, tags_per_page], sort_keys=True)
        start, page_number = _decode_token(body.get("PaginationToken"), query, self._clock())

        self.remember(account, region)
        now = self._clock()
        settings = self.settings(account)
        stale = settings["staleSeconds"]
        delay = settings["indexDelaySeconds"]
        horizon = now - delay if delay > 0 else None
        matching = []
        for arn, current, deleted_at in self._resources(account, region):
            if deleted_at is not None and now - deleted_at > stale:
                continue
            known, tags = self._indexed(account, region, arn, current, horizon)
            if not known:
                continue  # never tagged (yet, as the index sees it): GetResources does not know it
            if tag_filters and not tags:
                continue  # with a filter, only current tags count
            if not all(_filter_matches(f, tags) for f in tag_filters):
                continue
            if type_filters and not any(_type_matches(t, arn) for t in type_filters):
                continue
            if arn_list is not None and arn not in arn_list:
                continue
            matching.append({"ResourceARN": arn, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]})

        if arn_list is not None:
            return {"PaginationToken": "", "ResourceTagMappingList": matching}
        limit = per_page if per_page is not None else (None if tags_per_page is not None else DEFAULT_RESOURCES_PER_PAGE)
        # Shorter (or empty) pages than asked for, as AWS may send.
        sizes = settings["pageSizes"]
        if page_number < len(sizes):
            limit = sizes[page_number] if limit is None else min(limit, sizes[page_number])
        page: list[dict[str, Any]] = []
        tag_count = 0
        index = start
        while index < len(matching):
            entry = matching[index]
            if limit is not None and len(page) >= limit:
                break
            entry_tags = max(1, len(entry["Tags"]))
            # A resource and its tags are never split across pages.
            if tags_per_page is not None and page and tag_count + entry_tags > tags_per_page:
                break
            page.append(entry)
            tag_count += entry_tags
            index += 1
        token = _encode_token(index, page_number + 1, query, now) if index < len(matching) else ""
        return {"PaginationToken": token, "ResourceTagMappingList": page}


def _tag_filters(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 50:
        raise _invalid("TagFilters must be a list of at most 50 filters")
    out = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("Key"), str) or not 1 <= len(item["Key"]) <= 128:
            raise _invalid("each tag filter needs a Key of 1 to 128 characters")
        values = item.get("Values") or []
        if not isinstance(values, list) or len(values) > 20 or not all(isinstance(v, str) and len(v) <= 256 for v in values):
            raise _invalid("a tag filter has at most 20 Values of at most 256 characters")
        out.append({"Key": item["Key"], "Values": values})
    return out


def _type_filters(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > 100 or not all(isinstance(v, str) and v for v in value):
        raise _invalid("ResourceTypeFilters must be a list of at most 100 strings")
    return list(value)


def _int_in(body: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(f"{key} must be from {low} to {high}")
    return value


def _filter_matches(tag_filter: dict[str, Any], tags: dict[str, str]) -> bool:
    if tag_filter["Key"] not in tags:
        return False
    return not tag_filter["Values"] or tags[tag_filter["Key"]] in tag_filter["Values"]


def _type_matches(type_filter: str, arn: str) -> bool:
    """``service`` or ``service:type`` against ``arn:partition:service:region:account:resource``."""
    parts = arn.split(":", 5)
    if len(parts) < 6:
        return False
    service, resource = parts[2], parts[5]
    wanted_service, _, wanted_type = type_filter.partition(":")
    if wanted_service != service:
        return False
    if not wanted_type:
        return True
    # The type is the first segment of the resource part ("/applications/ID"
    # -> "applications"; "role/x" -> "role").
    first = resource.lstrip("/").split("/", 1)[0].split(":", 1)[0]
    return first == wanted_type


def _query_hash(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()[:16]


def _encode_token(index: int, page_number: int, query: str, now: float) -> str:
    data = {"i": index, "p": page_number, "q": _query_hash(query), "t": round(now, 3)}
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _decode_token(token: Any, query: str, now: float) -> tuple[int, int]:
    """(index of the next result, number of the next page) of a token."""
    if token in (None, ""):
        return 0, 0
    try:
        data = json.loads(base64.urlsafe_b64decode(str(token).encode()))
        index, page_number, query_hash, issued = data["i"], data["p"], data["q"], data["t"]
        if any(isinstance(n, bool) or not isinstance(n, int) or n < 0 for n in (index, page_number)):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise _invalid("the PaginationToken is not valid") from None
    if query_hash != _query_hash(query):
        raise _invalid("the PaginationToken belongs to a different query")
    if now - float(issued) > TOKEN_LIFETIME_SECONDS:
        raise TaggingError("PaginationTokenExpiredException", "A PaginationToken is valid for a maximum of 15 minutes.")
    return index, page_number
