"""The sandbox's /resultbudget endpoints: the demo budgets follow their seeding rule (last year's
actual less 5 %, this year's same month plus 5 %, rounded to 100 kroner) at company, department
and project level, `year` picks the fiscal year, and the lists filter as the spec says."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from tripletex.sandbox import demo

FIELDS = "id,account(id,number),accountingPeriod(id,start),amount,resultBudgetType,department(id),project(id)"


def _hundreds(amount: Decimal, percent: int) -> Decimal:
    return (amount * percent / 100 / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP) * 100


def _values(http, server, path, **params):
    resp = http.get(server.base_url + path, params={"fields": FIELDS, **params}, timeout=10)
    assert resp.status_code == 200, resp.text
    return resp.json()["values"]


def _changes(http, server, month_start: str, month_end: str, **dimension) -> dict[int, Decimal]:
    params = {"dateFrom": month_start, "dateTo": month_end, **dimension}
    resp = http.get(server.base_url + "/balanceSheet", params=params, timeout=10)
    rows = resp.json()["values"]
    numbers = {
        a["id"]: a["number"]
        for a in http.get(server.base_url + "/ledger/account", timeout=10).json()["values"]
    }
    return {numbers[r["account"]["id"]]: Decimal(str(r["balanceChange"])) for r in rows}


def test_company_budget_follows_the_seeding_rule(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    last_year = server.store.today().year - 1
    previous = _values(http, server, "/resultbudget/company", year=last_year)
    current = _values(http, server, "/resultbudget/company", year=last_year + 1)
    assert previous
    assert current
    assert {b["resultBudgetType"] for b in previous + current} == {"COMPANY"}
    assert all(b["accountingPeriod"]["start"].startswith(str(last_year)) for b in previous)
    assert all(b["accountingPeriod"]["start"].startswith(str(last_year + 1)) for b in current)
    march = f"{last_year}-03-01"
    actual = _changes(http, server, march, f"{last_year}-04-01")
    budget = {
        b["account"]["number"]: Decimal(str(b["amount"]))
        for b in previous
        if b["accountingPeriod"]["start"] == march
    }
    next_march = {
        b["account"]["number"]: Decimal(str(b["amount"]))
        for b in current
        if b["accountingPeriod"]["start"] == f"{last_year + 1}-03-01"
    }
    expected = {
        n: _hundreds(v, 95) for n, v in actual.items() if 3000 <= n < 8800 and _hundreds(v, 95)
    }
    assert budget == expected
    assert next_march == {
        n: _hundreds(v, 105) for n, v in actual.items() if 3000 <= n < 8800 and _hundreds(v, 105)
    }
    assert any(v < 0 for v in budget.values()), (
        "income is budgeted negative, as the ledger signs it"
    )


def test_department_and_project_budgets(tripletex_sandbox_shared, sandbox_http):
    server = tripletex_sandbox_shared
    company = demo.OPERATING.company_id
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    last_year = server.store.today().year - 1
    departments = [d["id"] for d in server.store.departments(company)]
    projects = [p["id"] for p in server.store.projects(company)]
    everything = _values(
        http,
        server,
        "/resultbudget",
        year=last_year,
        includeAllDepartmentResultBudgets="true",
        includeAllProjectResultBudgets="true",
    )
    assert {b["resultBudgetType"] for b in everything} == {"DEPARTMENT", "PROJECT"}
    sales = departments[1]
    of_sales = _values(http, server, f"/resultbudget/department/{sales}", year=last_year)
    assert of_sales
    assert all(b["department"]["id"] == sales and b.get("project") is None for b in of_sales)
    listed = _values(http, server, "/resultbudget", year=last_year, departmentIds=str(sales))
    assert [b["id"] for b in listed] == [b["id"] for b in of_sales]
    # A department's budget is its own postings' actual less 5 %.
    actual = _changes(
        http, server, f"{last_year}-05-01", f"{last_year}-06-01", departmentId=str(sales)
    )
    may = {
        b["account"]["number"]: Decimal(str(b["amount"]))
        for b in of_sales
        if b["accountingPeriod"]["start"] == f"{last_year}-05-01"
    }
    assert may == {
        n: _hundreds(v, 95) for n, v in actual.items() if 3000 <= n < 8800 and _hundreds(v, 95)
    }
    by_project = [b for b in everything if b["resultBudgetType"] == "PROJECT"]
    assert by_project
    assert {b["project"]["id"] for b in by_project} <= set(projects)
    assert _values(http, server, "/resultbudget", year=last_year) == []


def test_year_defaults_to_this_year_and_firms_without_budgets(
    tripletex_sandbox_shared, sandbox_http
):
    server = tripletex_sandbox_shared
    http = sandbox_http(server, demo.OPERATING_TOKEN)
    this_year = server.store.today().year
    default = _values(http, server, "/resultbudget/company")
    assert default == _values(http, server, "/resultbudget/company", year=this_year)
    assert _values(http, server, "/resultbudget/company", year=1990) == []
    office_client = sandbox_http(server, demo.OFFICE_TOKEN, demo.CLIENT_B.company_id)
    assert _values(office_client, server, "/resultbudget/company", year=this_year - 1) == []


def test_set_and_delete_budgets(tripletex_sandbox, sandbox_http):
    server = tripletex_sandbox
    company = demo.CLIENT_B.company_id
    year = server.store.today().year - 1
    from datetime import date

    server.store.set_result_budget(
        company, account_number=3000, month=date(year, 2, 1), amount=Decimal("-1234.50")
    )
    http = sandbox_http(server, demo.OFFICE_TOKEN, company)
    rows = _values(http, server, "/resultbudget/company", year=year)
    assert [
        (r["account"]["number"], r["accountingPeriod"]["start"], r["amount"]) for r in rows
    ] == [(3000, f"{year}-02-01", -1234.5)]
    assert server.store.delete_result_budgets(company) == 1
    assert _values(http, server, "/resultbudget/company", year=year) == []
