"""Deterministic demo data: NS 4102 chart of accounts, VAT and voucher types, and ledgers.

Everything here is pure data generation (no SQLite): `store/seeding.py` writes it. Amounts are
integers in øre. A company's ledger covers its previous fiscal year and the current one up to
`today` (calendar years, or e.g. July–June for a company whose fiscal year starts in July), ends
the first year with a closing voucher that moves the result to equity (8960 against 2050) and is
drawn from a `random.Random` seeded with the company key, so the same key and date always give
the same ledger.

The accounts our GL roles use carry the names of Tripletex's standard chart as researched for the
README's "Default accounts" (8160 is Valutatap, 8040 a tax-refund interest account): a demo must
never make a wrong default look right by naming an account after it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

SEED = 4102

# number, name, default VAT code
CHART = """
1000|Forskning og utvikling|0
1020|Konsesjoner|0
1070|Utsatt skattefordel|0
1080|Goodwill|0
1100|Forretningsbygg|0
1120|Bygningsmessige anlegg|0
1130|Anlegg under utførelse|0
1150|Tomter|0
1200|Maskiner og anlegg|0
1230|Personbiler|0
1240|Lastebiler|0
1250|Inventar|0
1270|Verktøy|0
1280|Kontormaskiner|0
1290|Andre driftsmidler|0
1300|Investeringer i datterselskap|0
1320|Lån til foretak i samme konsern|0
1330|Investeringer i tilknyttet selskap|0
1350|Investeringer i aksjer og andeler|0
1360|Obligasjoner|0
1370|Fordringer på eiere|0
1380|Fordringer på ansatte|0
1390|Andre fordringer|0
1400|Råvarer|0
1460|Innkjøpte varer for videresalg|0
1500|Kundefordringer|0
1530|Opptjent, ikke fakturert inntekt|0
1570|Andre kortsiktige fordringer|0
1700|Forskuddsbetalt leiekostnad|0
1710|Forskuddsbetalt rentekostnad|0
1749|Andre forskuddsbetalte kostnader|0
1750|Påløpt leieinntekt|0
1800|Aksjer og andeler i foretak i samme konsern|0
1810|Markedsbaserte aksjer og verdipapirfondsandeler|0
1820|Andre aksjer|0
1830|Markedsbaserte obligasjoner|0
1850|Andre markedsbaserte finansielle instrumenter|0
1870|Andre obligasjoner|0
1880|Ikke markedsbaserte opsjoner, norske|0
1889|Andre finansielle instrumenter|0
1900|Kontanter|0
1920|Bankinnskudd|0
1925|Bankinnskudd i valuta, USD|0
1930|Bankinnskudd, sparekonto|0
1950|Bankinnskudd for skattetrekk|0
2000|Aksjekapital|0
2020|Overkurs|0
2030|Annen innskutt egenkapital|0
2050|Annen egenkapital|0
2080|Udekket tap|0
2120|Utsatt skatt|0
2160|Uopptjent inntekt, langsiktig|0
2210|Gjeld til kredittinstitusjoner|0
2220|Langsiktig lån fra kredittinstitusjon|0
2250|Gjeld til ansatte og eiere|0
2260|Gjeld til selskap i samme konsern|0
2290|Annen langsiktig gjeld|0
2380|Kassekreditt|0
2400|Leverandørgjeld|0
2500|Betalbar skatt, ikke utlignet|0
2510|Betalbar skatt, utlignet|0
2600|Forskuddstrekk|0
2610|Påleggstrekk|0
2640|Forsikringstrekk|0
2650|Fagforeningstrekk|0
2700|Utgående merverdiavgift, høy sats|0
2701|Utgående merverdiavgift, middels sats|0
2702|Utgående merverdiavgift, lav sats|0
2710|Inngående merverdiavgift, høy sats|0
2711|Inngående merverdiavgift, middels sats|0
2712|Inngående merverdiavgift, lav sats|0
2713|Inngående merverdiavgift, råfisk|0
2740|Oppgjørskonto merverdiavgift|0
2770|Skyldig arbeidsgiveravgift|0
2780|Påløpt arbeidsgiveravgift på påløpt lønn|0
2785|Påløpt arbeidsgiveravgift på ferielønn|0
2800|Avsatt utbytte|0
2900|Forskudd fra kunder|0
2910|Gjeld til ansatte og eiere, kortsiktig|0
2920|Gjeld til selskap i samme konsern, kortsiktig|0
2930|Skyldig lønn|0
2940|Skyldige feriepenger|0
2960|Påløpt kostnad|0
2970|Uopptjent inntekt|0
2990|Annen kortsiktig gjeld|0
3000|Salgsinntekt, avgiftspliktig|3
3020|Salgsinntekt, avgiftspliktig, middels sats|31
3030|Salgsinntekt, avgiftspliktig, lav sats|33
3100|Salgsinntekt, avgiftsfri|5
3200|Salgsinntekt, utenfor avgiftsområdet|6
3400|Offentlig tilskudd/refusjon|0
3600|Leieinntekt fast eiendom|0
3610|Leieinntekt andre varige driftsmidler|3
3700|Provisjonsinntekt|3
3900|Annen driftsrelatert inntekt|0
4000|Innkjøp råvarer og halvfabrikater|1
4300|Innkjøp av varer for videresalg|1
4500|Fremmedytelser og underentreprise|1
4990|Beholdningsendring|0
5000|Lønn til ansatte|0
5020|Feriepenger|0
5090|Påløpt, ikke utbetalt lønn|0
5180|Påløpte feriepenger|0
5210|Fri telefon|0
5250|Gruppelivsforsikring|0
5280|Annen fordel i arbeidsforhold|0
5330|Godtgjørelse til styre|0
5400|Arbeidsgiveravgift|0
5420|Innberetningspliktig pensjonskostnad|0
5500|Annen kostnadsgodtgjørelse|0
5800|Refusjon av sykepenger|0
5900|Gave til ansatte|0
5990|Annen personalkostnad|0
6000|Avskrivning på bygninger og annen fast eiendom|0
6010|Avskrivning på transportmidler, maskiner og inventar|0
6020|Avskrivning på immaterielle eiendeler|0
6100|Frakt, transport og forsikring ved vareforsendelse|1
6300|Leie lokale|0
6320|Renovasjon, vann, avløp o.l.|1
6340|Lys, varme|1
6360|Renhold|1
6400|Leie maskiner|1
6420|Leie datasystemer|1
6440|Leie transportmidler|1
6540|Inventar|1
6550|Driftsmaterialer|1
6560|Rekvisita|1
6600|Reparasjon og vedlikehold bygninger|1
6620|Reparasjon og vedlikehold utstyr|1
6700|Revisjonshonorar|1
6705|Regnskapshonorar|1
6720|Honorar for økonomisk og juridisk bistand|1
6790|Annen fremmed tjeneste|1
6800|Kontorrekvisita|1
6840|Aviser, tidsskrifter, bøker o.l.|12
6860|Møte, kurs, oppdatering o.l.|1
6900|Telefon|1
6940|Porto|0
7000|Drivstoff|1
7020|Vedlikehold transportmidler|1
7040|Forsikring og avgifter transportmidler|0
7100|Bilgodtgjørelse, oppgavepliktig|0
7140|Reisekostnad, ikke oppgavepliktig|11
7150|Diettkostnad, ikke oppgavepliktig|0
7300|Salgskostnad|1
7320|Reklamekostnad|1
7350|Representasjon, fradragsberettiget|1
7400|Kontingent, fradragsberettiget|0
7420|Gave, fradragsberettiget|1
7500|Forsikringspremie|0
7700|Styremøter, generalforsamling|0
7770|Bank- og kortgebyrer|0
7790|Annen kostnad, fradragsberettiget|0
7830|Tap på fordringer|0
8000|Inntekt på investering i datterselskap|0
8040|Renteinntekt tilbakebetalt skatt skattefri|0
8050|Renteinntekt bankinnskudd|0
8060|Valutagevinst (agio)|0
8071|Aksjeutbytte fra norske selskaper|0
8077|Gevinst ved realisasjon av andre aksjer/andeler, innenfor fritaksmetoden|0
8080|Verdiøkning av markedsbaserte finansielle omløpsmidler|0
8090|Annen finansinntekt|0
8100|Verdireduksjon av markedsbaserte finansielle omløpsmidler|0
8130|Rentekostnad til foretak i samme konsern|0
8150|Annen rentekostnad|0
8160|Valutatap (disagio)|0
8177|Tap ved realisasjon av aksjer/andeler, innenfor fritaksmetoden|0
8178|Tap ved realisasjon av aksjer/andeler, utenfor fritaksmetoden|0
8179|Annen finanskostnad|0
8300|Betalbar skatt|0
8320|Endring utsatt skatt|0
8800|Årsresultat|0
8920|Avsatt utbytte|0
8960|Overføringer annen egenkapital|0
8990|Udekket tap|0
8078|Gevinst ved realisasjon av aksjer/andeler, utenfor fritaksmetoden|0
"""

# A bench company only gets the accounts its generator uses plus a few common ones.
_BENCH_NUMBERS = (
    "1250 1280 1500 1570 1700 1800 1810 1900 1920 1950 2000 2020 2050 2080 2210 2220 2380"
    " 2400 2500 2600 2610 2700 2701 2702 2710 2711 2712 2740 2770 2800 2930 2940 2960 2990"
    " 3000 3030 3100 3200 3900 4300 4500 5000 5020 5400 6300 6340 6420 6700 6705 6800"
    " 6900 7100 7320 7500 7770 8040 8050 8071 8077 8150 8160 8177 8178 8179 8300 8960"
)
BENCH_ACCOUNTS = frozenset(int(n) for n in _BENCH_NUMBERS.split())

# code -> (id, name, percentage, VAT account or None, direction)
VAT_TYPES: dict[str, tuple[int, str, str, int | None, str]] = {
    "0": (6000, "Ingen avgiftsbehandling", "0", None, "NONE"),
    "1": (6001, "Fradrag inngående avgift, høy sats", "25", 2710, "INCOMING"),
    "3": (6003, "Utgående avgift, høy sats", "25", 2700, "OUTGOING"),
    "5": (6005, "Ingen utgående avgift (innenfor mva-loven)", "0", None, "OUTGOING"),
    "6": (6006, "Ingen utgående avgift (utenfor mva-loven)", "0", None, "OUTGOING"),
    "11": (6011, "Fradrag inngående avgift, middels sats", "15", 2711, "INCOMING"),
    "12": (6012, "Fradrag inngående avgift, lav sats", "12", 2712, "INCOMING"),
    "13": (6013, "Fradrag inngående avgift, råfisk", "11.11", 2713, "INCOMING"),
    "31": (6031, "Utgående avgift, middels sats", "15", 2701, "OUTGOING"),
    "33": (6033, "Utgående avgift, lav sats", "12", 2702, "OUTGOING"),
}

VOUCHER_TYPES: dict[str, int] = {
    "Utgående faktura": 9901,
    "Leverandørfaktura": 9902,
    "Innbetaling": 9903,
    "Utbetaling": 9904,
    "Lønnsbilag": 9905,
    "Memorialbilag": 9906,
    "Mva-oppgjør": 9907,
    "Årsavslutning": 9908,
}

# The currencies the sandbox knows: id -> (code, description, factor). Tripletex's Currency
# schema has exactly these fields (plus isDisabled); its ids are the same for every company and
# a posting names its currency by id (tripletex-api2#18 asks for codes instead: still ids). NOK
# is 1 as in the posting example of tripletex-api2#110; the other ids are the sandbox's own (our
# code looks currencies up by code, never by a hard-coded id). `factor` is the unit a rate is
# quoted per, 100 for SEK and DKK as Norges Bank quotes them (the spec only types it as an
# integer: *unverified* against Tripletex's values).
CURRENCY_NOK = 1
CURRENCIES: dict[int, tuple[str, str, int]] = {
    CURRENCY_NOK: ("NOK", "Norske kroner", 1),
    2: ("SEK", "Svenske kroner", 100),
    3: ("DKK", "Danske kroner", 100),
    4: ("USD", "Amerikanske dollar", 1),
    5: ("EUR", "Euro", 1),
    6: ("GBP", "Britiske pund", 1),
}
CURRENCY_IDS = {code: ident for ident, (code, _name, _factor) in CURRENCIES.items()}
# Accounts of the demo chart locked to a foreign currency (a broker's USD cash, e.g. Nordnet's
# USD sub-account): Tripletex takes only postings in that currency on them (README, sandbox).
ACCOUNT_CURRENCIES: dict[int, str] = {1925: "USD"}

DEPARTMENTS = (("1", "Administrasjon"), ("2", "Salg"), ("3", "Drift"))
PROJECTS = (("100", "Intern utvikling"), ("200", "Kundeprosjekt Bergen"), ("300", "Oppussing"))

Line = tuple[int, int, str | None, int | None, int | None]  # account, gross øre, vat, dept, proj


@dataclass
class Draft:
    """A voucher to seed: its gross lines are split into net + VAT rows by the store."""

    date: date
    description: str
    voucher_type: str
    lines: list[Line] = field(default_factory=list)


def chart() -> list[tuple[int, str, str]]:
    """The full chart of accounts as (number, name, default VAT code)."""
    rows = []
    for line in CHART.strip().splitlines():
        number, name, vat = line.split("|")
        rows.append((int(number), name, vat))
    return rows


def vat_account(code: str | None) -> int | None:
    """The account number a VAT code posts its VAT to; None without a code or for one without."""
    if not code or code not in VAT_TYPES:
        return None
    return VAT_TYPES[code][3]


def vat_split(gross: int, code: str | None) -> tuple[int, int]:
    """Split gross øre into (net, vat) for a VAT code; rounding goes to the VAT share."""
    if not code or code not in VAT_TYPES:
        return gross, 0
    percent = VAT_TYPES[code][2]
    hundredths = round(float(percent) * 100)
    if hundredths == 0 or vat_account(code) is None:
        return gross, 0
    net = _div_round(gross * 10000, 10000 + hundredths)
    return net, gross - net


def _div_round(numerator: int, denominator: int) -> int:
    """Integer division rounding half away from zero (øre rounding)."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    q, r = divmod(abs(numerator), abs(denominator))
    if 2 * r >= abs(denominator):
        q += 1
    return sign * q


class _Ledger:
    """Builds drafts for one company and keeps running balances the generator needs."""

    def __init__(self, rng: random.Random, today: date, accounts: set[int]) -> None:
        self.rng = rng
        self.today = today
        self.accounts = accounts
        self.drafts: list[Draft] = []
        self.balance: dict[int, int] = {}

    def add(self, day: date, text: str, vtype: str, lines: list[Line]) -> None:
        if day > self.today:
            return
        assert sum(line[1] for line in lines) == 0, text
        for account, gross, vat, _, _ in lines:
            net, tax = vat_split(gross, vat)
            self.balance[account] = self.balance.get(account, 0) + net
            tax_account = vat_account(vat)
            if tax and tax_account is not None:  # a VAT share always has its account
                self.balance[tax_account] = self.balance.get(tax_account, 0) + tax
        self.drafts.append(Draft(day, text, vtype, lines))

    def amount(self, low: int, high: int) -> int:
        """A random whole-krone amount in øre, sometimes with øre."""
        kroner = self.rng.randint(low, high)
        return kroner * 100 + (self.rng.choice((0, 0, 0, 50, 25, 90)))

    def dept(self) -> int | None:
        return self.rng.choice((None, 0, 1, 2))

    def month_day(self, year: int, month: int, low: int = 1, high: int = 28) -> date:
        return date(year, month, self.rng.randint(low, high))


BudgetKey = tuple[int, date, int | None, int | None]  # account id, month, department, project


def is_budgeted(number: int) -> bool:
    """Result accounts get a budget, but not the year-end allocations (8800–8999, e.g. 8960)."""
    return 3000 <= number < 8800


def budget_amounts(actuals: dict[BudgetKey, int], current: date) -> list[tuple[BudgetKey, int]]:
    """The demo budget, in øre with the ledger's signs, from the seeded actuals per account,
    month, department and project: the current fiscal year (from `current`) is last year's
    same month plus 5 %, the previous one its own actual less 5 %, each rounded to 100 kroner.
    Company level sums every posting; a department's or a project's level those that carry it."""
    levels: dict[BudgetKey, int] = {}
    for (account, month, dept, project), amount in actuals.items():
        keys: list[BudgetKey] = [(account, month, None, None)]
        if dept is not None:
            keys.append((account, month, dept, None))
        if project is not None:
            keys.append((account, month, None, project))
        for key in keys:
            levels[key] = levels.get(key, 0) + amount
    budgets: dict[BudgetKey, int] = {}
    for (account, month, dept, project), amount in levels.items():
        if month >= current:
            continue  # this year's actuals budget nothing; last year's budget both years
        budgets[(account, month, dept, project)] = _hundreds(amount, 95)
        next_year = month.replace(year=month.year + 1)
        budgets[(account, next_year, dept, project)] = _hundreds(amount, 105)
    return sorted(((k, v) for k, v in budgets.items() if v), key=lambda kv: _budget_order(kv[0]))


def _hundreds(ore: int, percent: int) -> int:
    """`percent` % of an amount in øre, rounded to whole hundreds of kroner (half away from 0)."""
    return _div_round(ore * percent, 100 * 10_000) * 10_000


def _budget_order(key: BudgetKey) -> tuple[int, date, int, int]:
    account, month, dept, project = key
    return account, month, dept or 0, project or 0


def fiscal_year_start(day: date, start_month: int) -> date:
    """The first day of the fiscal year (starting in calendar month start_month) containing day."""
    return date(day.year if day.month >= start_month else day.year - 1, start_month, 1)


def next_month(day: date) -> date:
    """The first day of the month after day's month."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def generate(
    key: str, profile: str, today: date, *, small: bool = False, fiscal_start_month: int = 1
) -> list[Draft]:
    """All drafts of one company's two fiscal years, closing voucher included, oldest first."""
    rng = random.Random(f"{SEED}:{key}")
    accounts = {n for n, _, _ in chart()}
    if small:
        accounts &= BENCH_ACCOUNTS
    ledger = _Ledger(rng, today, accounts)
    current = fiscal_year_start(today, fiscal_start_month)
    first = current.replace(year=current.year - 1)
    _opening(ledger, profile, first)
    month = first
    while month <= today:
        if profile in ("holding", "investment"):
            _holding_month(ledger, month.year, month.month, small)
        else:
            _operating_month(ledger, month.year, month.month, small, profile)
        month = next_month(month)
        if month == current:
            _year_end(ledger, current - timedelta(days=1), first.year)
    ledger.drafts.sort(key=lambda d: d.date)
    return ledger.drafts


def _opening(ledger: _Ledger, profile: str, day: date) -> None:
    rng = ledger.rng
    if profile in ("holding", "investment"):
        sub = rng.randint(20, 60) * 100_000_00
        shares = rng.randint(5, 20) * 100_000_00
        bank = rng.randint(10, 40) * 100_000_00
        loan = rng.randint(5, 15) * 100_000_00
        capital = 30_000_00 * 10
        lines: list[Line] = [
            (1800, sub, None, None, None),
            (1810, shares, None, None, None),
            (1920, bank, None, None, None),
            (2000, -capital, None, None, None),
            (2220, -loan, None, None, None),
            (2050, -(sub + shares + bank - capital - loan), None, None, None),
        ]
    else:
        bank = rng.randint(3, 15) * 100_000_00
        equipment = rng.randint(2, 8) * 100_000_00
        receivables = rng.randint(1, 5) * 100_000_00
        capital = 30_000_00
        lines = [
            (1920, bank, None, None, None),
            (1250, equipment, None, None, None),
            (1500, receivables, None, None, None),
            (2000, -capital, None, None, None),
            (2050, -(bank + equipment + receivables - capital), None, None, None),
        ]
    ledger.add(day, "Inngående balanse", "Memorialbilag", lines)


def _holding_month(ledger: _Ledger, year: int, month: int, small: bool) -> None:
    rng = ledger.rng
    fee = ledger.amount(4000, 9000)
    ledger.add(
        ledger.month_day(year, month, 5, 15),
        "Regnskapshonorar",
        "Utbetaling",
        [(6705, fee, None, None, None), (1920, -fee, None, None, None)],
    )
    fees = ledger.amount(50, 400)
    ledger.add(
        date(year, month, 28),
        "Bankgebyrer",
        "Utbetaling",
        [(7770, fees, None, None, None), (1920, -fees, None, None, None)],
    )
    interest = ledger.amount(1000, 8000)
    ledger.add(
        date(year, month, 28),
        "Renteinntekt bank",
        "Innbetaling",
        [(1920, interest, None, None, None), (8050, -interest, None, None, None)],
    )
    loan_interest = ledger.amount(3000, 9000)
    ledger.add(
        date(year, month, 20),
        "Renter lån",
        "Utbetaling",
        [(8150, loan_interest, None, None, None), (1920, -loan_interest, None, None, None)],
    )
    if month == 5:
        dividend = rng.randint(5, 30) * 100_000_00
        ledger.add(
            date(year, 5, 20),
            "Aksjeutbytte",
            "Innbetaling",
            [(1920, dividend, None, None, None), (8071, -dividend, None, None, None)],
        )
    if month in (3, 9) or (not small and month in (6, 11)):
        _securities_trade(ledger, year, month)
    if month == 6 and not small:
        audit = ledger.amount(20000, 45000)
        ledger.add(
            date(year, 6, 15),
            "Revisjonshonorar",
            "Utbetaling",
            [(6700, audit, None, None, None), (1920, -audit, None, None, None)],
        )


def _securities_trade(ledger: _Ledger, year: int, month: int) -> None:
    rng = ledger.rng
    buy = rng.randint(2, 10) * 50_000_00
    ledger.add(
        ledger.month_day(year, month, 2, 10),
        "Kjøp av aksjer",
        "Utbetaling",
        [(1810, buy, None, None, None), (1920, -buy, None, None, None)],
    )
    holding = ledger.balance.get(1810, 0)
    cost = min(holding, rng.randint(1, 6) * 40_000_00)
    if cost <= 0:
        return
    proceeds = cost + rng.randint(-15, 25) * 1_000_00 + rng.randint(0, 99)
    result = proceeds - cost
    # Norwegian shares are inside the exemption method (8077/8177); some losses are outside it.
    loss_account = 8177 if rng.random() < 0.7 else 8178
    gain_account = 8077
    lines: list[Line] = [(1920, proceeds, None, None, None), (1810, -cost, None, None, None)]
    if result > 0:
        lines.append((gain_account, -result, None, None, None))
    elif result < 0:
        lines.append((loss_account, -result, None, None, None))
    ledger.add(ledger.month_day(year, month, 12, 26), "Salg av aksjer", "Innbetaling", lines)


def _operating_month(ledger: _Ledger, year: int, month: int, small: bool, profile: str) -> None:
    rng = ledger.rng
    scale = 1 if small else 3
    sales_account = 3000 if profile != "office" else 3000
    for _ in range(rng.randint(scale, 2 * scale)):
        gross = ledger.amount(2000, 60000) * 5 // 4
        day = ledger.month_day(year, month)
        project = rng.choice((None, None, 1)) if not small else None
        ledger.add(
            day,
            "Salgsfaktura",
            "Utgående faktura",
            [(1500, gross, None, None, None), (sales_account, -gross, "3", ledger.dept(), project)],
        )
        if rng.random() < 0.9:
            ledger.add(
                min(day + timedelta(days=14), date(year, month, 28)),
                "Innbetaling kunde",
                "Innbetaling",
                [(1920, gross, None, None, None), (1500, -gross, None, None, None)],
            )
    for _ in range(rng.randint(max(1, scale - 1), scale + 1)):
        gross = ledger.amount(1000, 30000)
        account = rng.choice((4300, 4500, 6800, 6900)) if not small else 4300
        day = ledger.month_day(year, month)
        ledger.add(
            day,
            "Leverandørfaktura",
            "Leverandørfaktura",
            [(account, gross, "1", ledger.dept(), None), (2400, -gross, None, None, None)],
        )
        ledger.add(
            min(day + timedelta(days=10), date(year, month, 28)),
            "Betaling leverandør",
            "Utbetaling",
            [(2400, gross, None, None, None), (1920, -gross, None, None, None)],
        )
    rent = 25_000_00 if small else 45_000_00
    ledger.add(
        date(year, month, 1),
        "Husleie",
        "Utbetaling",
        [(6300, rent, "0", 0, None), (1920, -rent, None, None, None)],
    )
    _payroll(ledger, year, month, small)
    if month % 2 == 0:
        _vat_settlement(ledger, year, month)


def _payroll(ledger: _Ledger, year: int, month: int, small: bool) -> None:
    gross = ledger.amount(40000, 60000) * (1 if small else 4)
    tax = gross * 35 // 100
    aga = gross * 141 // 1000
    day = date(year, month, 25)
    ledger.add(
        day,
        f"Lønn {month:02d}/{year}",
        "Lønnsbilag",
        [
            (5000, gross, None, 0, None),
            (2600, -tax, None, None, None),
            (1920, -(gross - tax), None, None, None),
        ],
    )
    ledger.add(
        day,
        f"Arbeidsgiveravgift {month:02d}/{year}",
        "Lønnsbilag",
        [(5400, aga, None, 0, None), (2770, -aga, None, None, None)],
    )
    if month % 2 == 1:
        return
    # Withholding tax and employer's tax are paid bimonthly, like the VAT terms.
    owed_tax = -ledger.balance.get(2600, 0)
    owed_aga = -ledger.balance.get(2770, 0)
    ledger.add(
        date(year, month, 15),
        "Betaling skattetrekk og arbeidsgiveravgift",
        "Utbetaling",
        [
            (2600, owed_tax, None, None, None),
            (2770, owed_aga, None, None, None),
            (1920, -(owed_tax + owed_aga), None, None, None),
        ],
    )


def _vat_settlement(ledger: _Ledger, year: int, month: int) -> None:
    outgoing = ledger.balance.get(2700, 0)
    incoming = ledger.balance.get(2710, 0)
    if outgoing == 0 and incoming == 0:
        return
    day = date(year, month, 28)
    net = outgoing + incoming
    ledger.add(
        day,
        f"Mva-oppgjør termin {month // 2}",
        "Mva-oppgjør",
        [
            (2700, -outgoing, None, None, None),
            (2710, -incoming, None, None, None),
            (2740, net, None, None, None),
        ],
    )
    ledger.add(
        day,
        "Betaling merverdiavgift",
        "Utbetaling",
        [(2740, -net, None, None, None), (1920, net, None, None, None)],
    )


def _year_end(ledger: _Ledger, day: date, year: int) -> None:
    """The closing vouchers on the fiscal year's last day: tax, then the result to equity."""
    result = sum(v for k, v in ledger.balance.items() if 3000 <= k <= 8999)
    if result < 0 and 8300 in ledger.accounts:
        tax = (-result) * 22 // 100
        ledger.add(
            day,
            "Skattekostnad",
            "Memorialbilag",
            [(8300, tax, None, None, None), (2500, -tax, None, None, None)],
        )
        result += tax
    ledger.add(
        day,
        f"Årsavslutning {year}",
        "Årsavslutning",
        [(8960, -result, None, None, None), (2050, result, None, None, None)],
    )
