"""TripletexClient: every Tripletex call Dynamik makes, with timeouts, retries and typed errors.

No Django here: the client takes tokens and a company id and returns the dataclasses of schemas.py.
`tripletex.factory.make_client` builds one from settings.

Rules every call follows:
* `timeout=(connect, read)` and an explicit `fields` wherever the endpoint declares it.
* Lists are paged with from/count until a short page; `fullResultSize` is never read
  (tripletex-api2#127).
* GETs are retried on timeouts, connection errors, 429 and 5xx with capped exponential backoff,
  jitter and a total time budget (tripletex/retry.py), and so is creating the session a call needs
  (tripletex/session.py). Writes are never resent once they may have reached Tripletex:
  a timeout or 5xx on a write raises TripletexOutcomeUnknown, and the caller looks the voucher up.
* A 401 renews the session once (one renewal for all concurrent callers) and retries once.
* Failures are logged with Tripletex's x-tlx-request-id; tokens never appear in what we log.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar
from urllib.parse import quote

import redis
import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from .errors import (
    IDEMPOTENT_METHODS,
    TripletexAuthError,
    TripletexError,
    TripletexOutcomeUnknown,
    TripletexRateLimited,
    TripletexResponseError,
    TripletexUnavailable,
    TripletexValidationError,
    error_from_response,
)
from .ratelimit import MemoryRateLimiter, RateLimiter
from .redact import redact
from .retry import RetryPolicy
from .retry import limiter_errors_ignored as _limiter_errors_ignored
from .schemas import (
    Account,
    AccountingPeriod,
    BalanceRow,
    ClientCompany,
    Department,
    Page,
    Posting,
    Project,
    ResultBudget,
    VatType,
    Voucher,
    VoucherAttachment,
    VoucherPayload,
    VoucherType,
    WhoAmI,
    decode_json,
    encode_json,
)
from .session import MemorySessionCache, SessionCache, SessionManager

logger = logging.getLogger(__name__)

T = TypeVar("T")

JSON_CONTENT_TYPE = "application/json; charset=utf-8"
# Tripletex's answer when a page is too big: halve the page and ask again.
RESULT_TOO_LARGE = 23000
MAX_FAILED_IDS = 100

# `fields` per object; tests/tripletex/test_client_contract.py checks every name against the spec.
WHO_AM_I_FIELDS = (
    "employeeId,companyId,company(id,name,organizationNumber),"
    "employee(id,firstName,lastName),language"
)
CLIENT_FIELDS = "id,name,organizationNumber"
ACCOUNT_FIELDS = (
    "id,number,name,type,isInactive,vatLocked,vatType(id),requiresDepartment,requiresProject,"
    "ledgerType,currency(id,code)"
)
VAT_TYPE_FIELDS = "id,number,name,percentage"
VOUCHER_TYPE_FIELDS = "id,name"
PERIOD_FIELDS = "id,number,start,end,isClosed"
BALANCE_FIELDS = "account(id,number,name),balanceIn,balanceChange,balanceOut,startDate,endDate"
POSTING_FIELDS = (
    "id,row,date,description,account(id,number,name),amount,amountGross,"
    "voucher(id,number,year),department(id),project(id)"
)
# The sync's pull stores exactly these per posting (ledger.models.Posting); voucher(year) is left
# out because a voucher's year is the year of its date.
POSTING_SYNC_FIELDS = (
    "id,date,description,amount,account(id,number),department(id),project(id),voucher(id,number)"
)
# The largest page the sync asks for. The spec declares `count` without a maximum (default 1000);
# Tripletex refuses a `count` above 10,000 (airbytehq/airbyte#21067: "the parameter 'count' being
# bigger than the allowed 10000"), and a page that is still too large answers 23000, which
# `_pages` meets by halving the page.
POSTING_PAGE_MAX = 10_000
# Date order with the id as tie-break: a total, stable order (rows cannot shift between pages
# while nothing changes), and a page then covers an unbroken span of days, so the first page
# tells how dense the year is and which years a partial read covers whole.
POSTING_SYNC_SORTING = "date,id"
VOUCHER_HEADER_FIELDS = (
    "id,number,tempNumber,year,date,description,externalVoucherNumber,version,reverseVoucher(id)"
)
VOUCHER_FIELDS = (
    VOUCHER_HEADER_FIELDS + ",postings(id,row,date,description,account(id,number,name),amount,"
    "amountGross,department(id),project(id))"
)
# What shows whether an upload landed: the attachment document grows with each one (README
# "Contract notes"). The spec's Document: id, version, fileName, size, mimeType.
VOUCHER_ATTACHMENT_FIELDS = "id,version,attachment(id,version,fileName,size,mimeType)"
DEPARTMENT_FIELDS = "id,departmentNumber,name,isInactive"
PROJECT_FIELDS = "id,number,name,isClosed"
# README §8.5's field list, with the row's id (the stable sort key of the pages).
RESULT_BUDGET_FIELDS = (
    "id,account(id,number),accountingPeriod(id,number,start,end),amount,resultBudgetType,"
    "department(id),project(id)"
)


@dataclass(frozen=True)
class StatsMark:
    """ClientStats' counters at one moment (`mark()`), or what was added after one (`since()`)."""

    calls: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_seconds: float = 0.0


@dataclass
class ClientStats:
    """Counters shared by a client and every client made from it by for_company().

    They only grow. Work that shares a client with other work (a batch of bookings on one client)
    takes `mark()` when it starts and reads `since(mark)` when it ends, instead of resetting them."""

    calls: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_seconds: float = 0.0
    failed_request_ids: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **increments: float) -> None:
        """Add to counters atomically."""
        with self._lock:
            for name, value in increments.items():
                setattr(self, name, getattr(self, name) + value)

    def mark(self) -> StatsMark:
        """The counters now, to pass to `since()` later."""
        with self._lock:
            return StatsMark(
                calls=self.calls,
                retries=self.retries,
                rate_limit_waits=self.rate_limit_waits,
                waited_seconds=self.waited_seconds,
            )

    def since(self, mark: StatsMark) -> StatsMark:
        """What the counters grew by after `mark` was taken."""
        now = self.mark()
        return StatsMark(
            calls=now.calls - mark.calls,
            retries=now.retries - mark.retries,
            rate_limit_waits=now.rate_limit_waits - mark.rate_limit_waits,
            waited_seconds=now.waited_seconds - mark.waited_seconds,
        )

    def failed(self, request_id: str | None) -> None:
        """Remember the request id of a failed call (for support tickets)."""
        if request_id:
            with self._lock:
                self.failed_request_ids.append(request_id)
                # Keep the most recent ones only: a long-lived client must not grow without end.
                del self.failed_request_ids[:-MAX_FAILED_IDS]


@dataclass
class _Shared:
    """What all clients of one employee token share, whichever company they act in."""

    base_url: str
    sessions: SessionManager
    limiter: RateLimiter
    http: requests.Session
    timeout: tuple[float, float]
    retry: RetryPolicy
    sleep: Callable[[float], None]
    stats: ClientStats


@contextlib.contextmanager
def _session_store_errors(method: str, path: str) -> Iterator[None]:
    # Without the session store we cannot call at all; say so in the transient error callers retry.
    try:
        yield
    except (redis.RedisError, OSError) as exc:
        raise TripletexUnavailable(
            f"The Tripletex session store is unavailable ({type(exc).__name__}).",
            method=method,
            path=path,
        ) from exc


def _encode_path(path: str) -> str:
    # `>` marks Tripletex's summary endpoints; some proxies and clients mangle it unencoded.
    return path.replace(">", "%3E")


def _was_not_sent(exc: requests.RequestException) -> bool:
    """True when the connection never opened, so Tripletex cannot have seen the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, NewConnectionError | ConnectTimeoutError):
            return True
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        stack.extend(arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException))
    return False


class TripletexClient:
    """A Tripletex API client for one employee token, acting in one company."""

    page_size = 1000

    def __init__(
        self,
        *,
        base_url: str,
        consumer_token: str,
        employee_token: str,
        company_id: int = 0,
        sessions: SessionCache | None = None,
        limiter: RateLimiter | None = None,
        timeout: tuple[float, float] = (10.0, 30.0),
        retry: RetryPolicy | None = None,
        http: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        http = http or requests.Session()
        base = base_url.rstrip("/")
        limiter = limiter or MemoryRateLimiter()
        retry = retry or RetryPolicy()
        manager = SessionManager(
            base_url=base,
            consumer_token=consumer_token,
            employee_token=employee_token,
            cache=sessions or MemorySessionCache(),
            http=http,
            timeout=timeout,
            retry=retry,
            limiter=limiter,
            sleep=sleep,
        )
        self._shared = _Shared(
            base_url=base,
            sessions=manager,
            limiter=limiter,
            http=http,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            stats=ClientStats(),
        )
        self.company_id = int(company_id)

    def __repr__(self) -> str:
        return f"<TripletexClient {self._shared.base_url} company={self.company_id}>"

    @property
    def timeout(self) -> tuple[float, float]:
        """(connect, read) seconds: how long one HTTP send may stay in flight before we give up."""
        return self._shared.timeout

    @property
    def stats(self) -> ClientStats:
        """Call, retry and wait counters shared with clients made by for_company()."""
        return self._shared.stats

    def for_company(self, company_id: int) -> TripletexClient:
        """The same key acting in another company (accounting office: the client's company id)."""
        other = object.__new__(TripletexClient)
        other._shared = self._shared
        other.company_id = int(company_id)
        other.page_size = self.page_size
        return other

    # ---- reference data -------------------------------------------------------------------------

    def who_am_i(self) -> WhoAmI:
        """The employee and company this key and company id act as."""
        # Reference: GET /token/session/>whoAmI
        body = self._get("/token/session/>whoAmI", {"fields": WHO_AM_I_FIELDS})
        return self._parse(WhoAmI.from_api, self._value(body))

    def clients_with_login_access(self) -> list[ClientCompany]:
        """Companies an accounting-office key may act in (call with company_id 0)."""
        # Reference: GET /company/>withLoginAccess
        return self._all(
            "/company/>withLoginAccess", {"fields": CLIENT_FIELDS}, ClientCompany.from_api
        )

    def accounts(self) -> list[Account]:
        """All ledger accounts of the company, active and inactive."""
        # Reference: GET /ledger/account
        return self._all("/ledger/account", {"fields": ACCOUNT_FIELDS}, Account.from_api)

    def vat_types(self) -> list[VatType]:
        """All VAT codes."""
        # Reference: GET /ledger/vatType
        return self._all("/ledger/vatType", {"fields": VAT_TYPE_FIELDS}, VatType.from_api)

    def voucher_types(self) -> list[VoucherType]:
        """All voucher types (series)."""
        # Reference: GET /ledger/voucherType
        params = {"fields": VOUCHER_TYPE_FIELDS}
        return self._all("/ledger/voucherType", params, VoucherType.from_api)

    def departments(self) -> list[Department]:
        """All departments, active and inactive."""
        # Reference: GET /department
        return self._all("/department", {"fields": DEPARTMENT_FIELDS}, Department.from_api)

    def projects(self) -> list[Project]:
        """All projects, open and closed; offers (isOffer) are left out: not projects yet."""
        # Reference: GET /project
        params = {"fields": PROJECT_FIELDS, "isOffer": "false"}
        return self._all("/project", params, Project.from_api)

    def accounting_periods(self, *, start_from: date, start_to: date) -> list[AccountingPeriod]:
        """Periods whose start lies in [start_from, start_to)."""
        # Reference: GET /ledger/accountingPeriod
        params = {
            "startFrom": start_from.isoformat(),
            "startTo": start_to.isoformat(),
            "fields": PERIOD_FIELDS,
        }
        return self._all("/ledger/accountingPeriod", params, AccountingPeriod.from_api)

    # ---- figures --------------------------------------------------------------------------------

    def balance_sheet(
        self, *, date_from: date, date_to: date, include_accounts_without_movements: bool = False
    ) -> list[BalanceRow]:
        """Trial balance (saldobalanse) over [date_from, date_to): date_to is exclusive."""
        # Reference: GET /balanceSheet
        params = {
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
            "includeActiveAccountsWithoutMovements": _bool(include_accounts_without_movements),
            "fields": BALANCE_FIELDS,
        }
        # No `sorting`: the rows have no id of their own to sort by.
        return self._all("/balanceSheet", params, BalanceRow.from_api, sorting=None)

    def postings_page(
        self,
        *,
        date_from: date,
        date_to: date,
        account_id: int | None = None,
        from_: int = 0,
        count: int = 100,
    ) -> Page[Posting]:
        """One page of postings in [date_from, date_to), optionally of one account (by id)."""
        # Reference: GET /ledger/posting
        params = self._posting_params(date_from, date_to, account_id)
        return self._page("/ledger/posting", params, Posting.from_api, from_=from_, count=count)

    def postings(
        self, *, date_from: date, date_to: date, account_id: int | None = None
    ) -> list[Posting]:
        """All postings in [date_from, date_to), optionally of one account (by id)."""
        # Reference: GET /ledger/posting
        params = self._posting_params(date_from, date_to, account_id)
        return self._all("/ledger/posting", params, Posting.from_api)

    def posting_pages(self, *, date_from: date, date_to: date) -> Iterator[Page[Posting]]:
        """Every posting in [date_from, date_to) in date order, lazily, one page of up to
        POSTING_PAGE_MAX at a time (the caller may stop early); only POSTING_SYNC_FIELDS."""
        # Reference: GET /ledger/posting
        params = {
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
            "fields": POSTING_SYNC_FIELDS,
        }
        return self._pages(
            "/ledger/posting",
            params,
            Posting.from_api,
            sorting=POSTING_SYNC_SORTING,
            count=POSTING_PAGE_MAX,
        )

    @staticmethod
    def _posting_params(date_from: date, date_to: date, account_id: int | None) -> dict[str, str]:
        params = {
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
            "fields": POSTING_FIELDS,
        }
        if account_id is not None:
            params["accountId"] = str(account_id)
        return params

    # ---- budgets --------------------------------------------------------------------------------

    def result_budgets_company(self, *, year: int) -> list[ResultBudget]:
        """The company-level result budget of `year` (always passed: Tripletex defaults to the
        current year)."""
        # Reference: GET /resultbudget/company
        params = {"year": str(year), "fields": RESULT_BUDGET_FIELDS}
        return self._all("/resultbudget/company", params, ResultBudget.from_api)

    def result_budgets_dimensions(self, *, year: int) -> list[ResultBudget]:
        """Every department's and project's result budget of `year`; Tripletex's includeAll…
        flags cover active departments and projects only (README §8.5)."""
        # Reference: GET /resultbudget
        params = {
            "year": str(year),
            "includeAllDepartmentResultBudgets": "true",
            "includeAllProjectResultBudgets": "true",
            "fields": RESULT_BUDGET_FIELDS,
        }
        return self._all("/resultbudget", params, ResultBudget.from_api)

    # ---- vouchers -------------------------------------------------------------------------------

    def voucher_create(
        self,
        voucher: VoucherPayload,
        *,
        send_to_ledger: bool = True,
        on_send: Callable[[], None] | None = None,
    ) -> Voucher:
        """Create a voucher; never resent once it may have arrived. Raises TripletexOutcomeUnknown
        if it may exist anyway.

        `on_send` runs immediately before every HTTP send of the POST (the resends after a 401 or
        429 included), after any wait for the rate budget: the caller stamps the moment the POST
        last left, and may raise to stop a send (e.g. a booking that lost its claim)."""
        # Reference: POST /ledger/voucher
        body = encode_json(voucher.to_api())  # raises before any call if Tripletex would refuse it
        # The spec declares no `fields` here: the answer has top-level fields, postings as {id,url}.
        params = {"sendToLedger": _bool(send_to_ledger)}
        with self._write_answer("POST", "/ledger/voucher"):
            response = self._call(
                "POST", "/ledger/voucher", params=params, body=body, on_send=on_send
            )
            return self._parse(Voucher.from_api, self._value(response))

    def voucher_get(self, voucher_id: int) -> Voucher:
        """One voucher with its postings."""
        # Reference: GET /ledger/voucher/{id}
        body = self._get(f"/ledger/voucher/{int(voucher_id)}", {"fields": VOUCHER_FIELDS})
        return self._parse(Voucher.from_api, self._value(body))

    def vouchers_by_external_number(self, number: str) -> list[Voucher]:
        """Vouchers carrying our idempotency key (postings not included)."""
        # Reference: GET /ledger/voucher/>externalVoucherNumber
        params = {"externalVoucherNumber": number, "fields": VOUCHER_HEADER_FIELDS}
        return self._all("/ledger/voucher/>externalVoucherNumber", params, Voucher.from_api)

    def vouchers_between(self, *, date_from: date, date_to: date) -> list[Voucher]:
        """Vouchers dated in [date_from, date_to), headers only, with externalVoucherNumber."""
        # Reference: GET /ledger/voucher
        params = {
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
            "fields": VOUCHER_HEADER_FIELDS,
        }
        return self._all("/ledger/voucher", params, Voucher.from_api)

    def vouchers_non_posted(self, *, date_from: date, date_to: date) -> list[Voucher]:
        """Vouchers dated in [date_from, date_to) that wait for approval (sendToLedger=false)."""
        # Reference: GET /ledger/voucher/>nonPosted
        params = {
            "dateFrom": date_from.isoformat(),
            "dateTo": date_to.isoformat(),
            "includeNonApproved": "true",
            "fields": VOUCHER_HEADER_FIELDS,
        }
        return self._all("/ledger/voucher/>nonPosted", params, Voucher.from_api)

    def voucher_reverse(
        self, voucher_id: int, *, date: date, on_send: Callable[[], None] | None = None
    ) -> Voucher:
        """Reverse a posted voucher on `date`; returns the new reversing voucher. Never resent
        once it may have arrived; `on_send` as for voucher_create."""
        # Reference: PUT /ledger/voucher/{id}/:reverse
        path = f"/ledger/voucher/{int(voucher_id)}/:reverse"
        with self._write_answer("PUT", path):
            body = self._call("PUT", path, params={"date": date.isoformat()}, on_send=on_send)
            return self._parse(Voucher.from_api, self._value(body))

    def voucher_attachment(self, voucher_id: int) -> VoucherAttachment | None:
        """The voucher's attachment document, None when it has none; raises TripletexNotFound
        when the voucher is gone."""
        # Reference: GET /ledger/voucher/{id}
        body = self._get(
            f"/ledger/voucher/{int(voucher_id)}", {"fields": VOUCHER_ATTACHMENT_FIELDS}
        )
        return self._parse(VoucherAttachment.of_voucher, self._value(body))

    def voucher_attachment_upload(
        self,
        voucher_id: int,
        *,
        file_name: str,
        content: bytes,
        content_type: str,
        on_send: Callable[[], None] | None = None,
    ) -> VoucherAttachment | None:
        """Upload a file to the voucher; returns the attachment the answer shows (None if it
        shows none). Never resent once it may have arrived: a second upload is appended as more
        pages (the spec's summary), so a lost answer raises TripletexOutcomeUnknown and the
        caller looks at the voucher. `on_send` as for voucher_create."""
        # Reference: POST /ledger/voucher/{voucherId}/attachment (multipart/form-data, part `file`)
        path = f"/ledger/voucher/{int(voucher_id)}/attachment"
        with self._write_answer("POST", path):
            body = self._call(
                "POST",
                path,
                files={"file": (file_name, content, content_type)},
                on_send=on_send,
            )
            value = body.get("value") if isinstance(body, dict) else None
            if not isinstance(value, dict):
                return None
            return self._parse(VoucherAttachment.of_voucher, value)

    # ---- session --------------------------------------------------------------------------------

    def session_delete(self) -> None:
        """Revoke the cached session (if any) and forget it; a session already gone is fine."""
        # Reference: DELETE /token/session/{token}
        # Deliberately outside _call: no "ensure a session" wrapper, which would mint a session
        # only to delete it, and which recursed forever in the official Java sample (#73).
        session = self._shared.sessions.drop()
        if session is None:
            return
        shared = self._shared
        url = f"{shared.base_url}/token/session/{quote(session.token, safe='')}"
        display = "/token/session/{token}"
        try:
            response = shared.http.delete(
                url, auth=(str(self.company_id), session.token), timeout=shared.timeout
            )
        except requests.RequestException as exc:
            raise self._network_error("DELETE", display, exc) from None
        shared.stats.add(calls=1)
        if response.status_code in (401, 404) or 200 <= response.status_code < 300:
            return  # 401/404: Tripletex no longer knows this session, which is what we wanted
        raise self._failed(error_from_response(response, method="DELETE", path=display))

    # ---- plumbing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write_answer(self, method: str, path: str) -> Iterator[None]:
        """Turn an unreadable 2xx answer to a write into OutcomeUnknown: applied, id unknown."""
        try:
            yield
        except TripletexResponseError as exc:
            raise TripletexOutcomeUnknown(
                f"Tripletex accepted the write but its answer was unreadable: {exc.message}",
                status=exc.status,
                request_id=exc.request_id,
                method=method,
                path=path,
            ) from None

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        return self._call("GET", path, params=params)

    def _all(
        self,
        path: str,
        params: Mapping[str, str],
        parse: Callable[[Mapping[str, Any]], T],
        *,
        sorting: str | None = "id",
    ) -> list[T]:
        """Every row of a list endpoint, page by page until a short page."""
        rows: list[T] = []
        for page in self._pages(path, params, parse, sorting=sorting):
            rows.extend(page.values)
        return rows

    def _pages(
        self,
        path: str,
        params: Mapping[str, str],
        parse: Callable[[Mapping[str, Any]], T],
        *,
        sorting: str | None,
        count: int | None = None,
    ) -> Iterator[Page[T]]:
        start, size = 0, count or self.page_size
        while True:
            try:
                page = self._page(path, params, parse, from_=start, count=size, sorting=sorting)
            except TripletexValidationError as exc:
                if exc.code != RESULT_TOO_LARGE or size <= 1:
                    raise
                size = max(1, size // 2)
                continue
            yield page
            if page.is_last:
                return
            start += len(page.values)

    def _page(
        self,
        path: str,
        params: Mapping[str, str],
        parse: Callable[[Mapping[str, Any]], T],
        *,
        from_: int,
        count: int,
        sorting: str | None = "id",
    ) -> Page[T]:
        query = {**params, "from": str(from_), "count": str(count)}
        if sorting:
            # A stable order, so rows cannot shift between pages while we read them.
            query["sorting"] = sorting
        body = self._get(path, query)
        values = body.get("values") if isinstance(body, dict) else None
        if not isinstance(values, list):
            raise self._failed(
                TripletexResponseError(
                    "Tripletex answered a list call without a `values` list.",
                    method="GET",
                    path=path,
                )
            )
        parsed = tuple(self._parse(parse, row) for row in values)
        # Never fullResultSize: it is deprecated and not exact (tripletex-api2#127).
        return Page(values=parsed, from_=from_, count=count, is_last=len(values) < count)

    def _value(self, body: Any) -> Mapping[str, Any]:
        value = body.get("value") if isinstance(body, dict) else None
        if not isinstance(value, dict):
            raise self._failed(TripletexResponseError("Tripletex answered without a `value`."))
        return value

    def _parse(self, parse: Callable[[Mapping[str, Any]], T], data: Any) -> T:
        try:
            return parse(data)
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            raise self._failed(
                TripletexResponseError(f"Unexpected shape in Tripletex's answer: {exc!r}")
            ) from None

    def _failed(self, error: TripletexError, *, attempts: int | None = None) -> TripletexError:
        """Log a failure with its request id and count it; returns the error for `raise`."""
        if attempts is not None:
            error.attempts = attempts
        self._shared.stats.failed(error.request_id)
        logger.warning("Tripletex call failed (company %s): %s", self.company_id, error)
        return error

    def _network_error(
        self, method: str, path: str, exc: requests.RequestException
    ) -> TripletexUnavailable:
        # requests puts the full URL in its messages; redact in case a token is in it.
        detail = redact(f"{type(exc).__name__}: {exc}")
        kwargs: dict[str, Any] = {"method": method, "path": path}
        if method in IDEMPOTENT_METHODS or _was_not_sent(exc):
            return TripletexUnavailable(f"Tripletex did not answer ({detail}).", **kwargs)
        return TripletexOutcomeUnknown(
            f"Tripletex did not answer a write; it may or may not have been applied ({detail}).",
            **kwargs,
        )

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        body: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        on_send: Callable[[], None] | None = None,
    ) -> Any:
        """One logical call: rate limit, session, retries, error mapping; returns parsed JSON.
        `body` is sent as JSON, `files` as a multipart form (requests sets its boundary).

        `on_send` runs right before each HTTP send, after the rate-limit wait and the session
        lookup, so nothing that can take time lies between it and the bytes leaving."""
        shared = self._shared
        policy = shared.retry
        url = shared.base_url + _encode_path(path)
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = JSON_CONTENT_TYPE
        key = shared.sessions.key
        is_read = method in IDEMPOTENT_METHODS
        attempt = renewed = 0
        spent = 0.0  # seconds used by requests and our sleeps, against policy.total_budget
        while True:
            attempt += 1
            waited = 0.0
            with _limiter_errors_ignored():
                waited = shared.limiter.before_call(key, sleep=shared.sleep)
            if waited > 0:
                shared.stats.add(rate_limit_waits=1, waited_seconds=waited)
                spent += waited
            with _session_store_errors(method, path):
                session = shared.sessions.current()
            if on_send is not None:
                on_send()
            started = time.monotonic()
            shared.stats.add(calls=1)
            try:
                response = shared.http.request(
                    method,
                    url,
                    params=params,
                    data=body,
                    files=files,
                    headers=headers,
                    auth=(str(self.company_id), session.token),
                    timeout=shared.timeout,
                )
            except requests.RequestException as exc:
                spent += time.monotonic() - started
                error: TripletexError = self._network_error(method, path, exc)
                delay = policy.backoff(attempt - 1, base=policy.base_delay, cap=policy.max_delay)
                # Writes are never resent here, even when the connection never opened: the
                # caller (a Celery task) retries the whole booking, lookup first.
                if not is_read or not self._may_retry(attempt, spent, delay):
                    raise self._failed(error, attempts=attempt) from None
                self._retry_sleep(delay, error)
                spent += delay
                continue
            spent += time.monotonic() - started
            with _limiter_errors_ignored():
                shared.limiter.after_response(key, response.status_code, response.headers)
            status = response.status_code
            if 200 <= status < 300:
                return self._decode(response, method, path)
            if status == 401 and not renewed:
                # Expired, revoked or dropped elsewhere: renew once (shared by concurrent callers).
                # A 401 was refused before anything happened, so a write may be sent again too.
                renewed = 1
                logger.info("Tripletex answered 401 on %s %s; renewing the session", method, path)
                with _session_store_errors(method, path):
                    shared.sessions.renew(session.token)
                shared.stats.add(retries=1)
                continue
            error = error_from_response(response, method=method, path=path)
            if isinstance(error, TripletexAuthError):
                error.message = "Tripletex rejected a freshly renewed session: the key is broken."
            wait = self._retry_delay(error, attempt, is_read)
            if wait is None or not self._may_retry(attempt, spent, wait):
                raise self._failed(error, attempts=attempt)
            self._retry_sleep(wait, error)
            spent += wait

    def _retry_delay(self, error: TripletexError, attempt: int, is_read: bool) -> float | None:
        """Seconds to wait before retrying after `error`, or None when it must not be retried."""
        shared = self._shared
        return shared.retry.delay_after(
            error,
            attempt,
            is_read=is_read,
            known_reset=lambda: shared.limiter.reset_in(shared.sessions.key),
        )

    def _may_retry(self, attempt: int, spent: float, delay: float) -> bool:
        return self._shared.retry.allows(attempt, spent, delay)

    def _retry_sleep(self, delay: float, error: TripletexError) -> None:
        logger.info("Retrying Tripletex call in %.1f s after: %s", delay, error)
        stats = self._shared.stats
        if isinstance(error, TripletexRateLimited):
            stats.add(rate_limit_waits=1, waited_seconds=delay)
        stats.add(retries=1)
        self._shared.sleep(delay)

    def _decode(self, response: requests.Response, method: str, path: str) -> Any:
        if not response.content:
            return None
        try:
            return decode_json(response.content)
        except ValueError:
            raise self._failed(
                TripletexResponseError(
                    "Tripletex answered with something that is not JSON.",
                    status=response.status_code,
                    request_id=response.headers.get("x-tlx-request-id"),
                    method=method,
                    path=path,
                )
            ) from None


def _bool(value: bool) -> str:
    return "true" if value else "false"
