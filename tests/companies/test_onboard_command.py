"""manage.py onboard_firm: same checks as the form, key from standard input, clear failures."""

import io
import sys

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from companies.credentials import office_key_set
from companies.models import AuditEvent, Company, Invitation, Membership, TripletexConnection
from tripletex.sandbox import demo

# Session-cache files stay with the test: each test's sandbox is fresh.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_var_dir")]


def run(monkeypatch, *args, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out = io.StringIO()
    call_command("onboard_firm", *args, stdout=out)
    return out.getvalue()


def test_onboards_with_own_key_from_stdin(
    tripletex_sandbox, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        out = run(
            monkeypatch,
            "921 500 033",
            "--users",
            "kari@fjellvik.no:admin,ola@fjellvik.no",
            stdin=demo.HOLDING_TOKEN + "\n",
        )

    company = Company.objects.get(org_number="921500033")
    assert company.tripletex.status == TripletexConnection.Status.CONNECTED
    invited = dict(Invitation.objects.filter(company=company).values_list("email", "role"))
    assert invited == {"kari@fjellvik.no": "admin", "ola@fjellvik.no": "finance"}
    assert not Membership.objects.filter(company=company).exists()  # until they accept
    assert len(mail.outbox) == 2
    assert "Invited kari@fjellvik.no" in out
    assert demo.HOLDING_TOKEN not in out
    assert AuditEvent.objects.filter(company=company, action="company.onboarded").exists()


def test_onboards_through_a_stored_office_key(tripletex_sandbox, monkeypatch, staff):
    office_key = office_key_set(office_key=None, name="Office", token=demo.OFFICE_TOKEN, by=staff)

    run(monkeypatch, demo.CLIENT_B.org_number, "--office-key-id", str(office_key.pk))

    connection = TripletexConnection.objects.get(company__org_number=demo.CLIENT_B.org_number)
    assert connection.office_key == office_key
    assert connection.tripletex_company_id == demo.CLIENT_B.company_id


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (["921500034"], demo.HOLDING_TOKEN),  # wrong check digit
        (["921500033"], ""),  # no key
        (["921500033"], "wrong-key"),
        (["922500037"], demo.HOLDING_TOKEN),  # the key of another company
        (["921500033", "--users", "kari@fjellvik.no:boss"], demo.HOLDING_TOKEN),
        (["921500033", "--office-key-id", "999"], ""),
    ],
)
def test_failures_exit_non_zero_and_save_nothing(tripletex_sandbox, monkeypatch, args, stdin):
    with pytest.raises(CommandError) as excinfo:
        run(monkeypatch, *args, stdin=stdin)

    assert str(excinfo.value)
    assert not Company.objects.exists()
    assert demo.HOLDING_TOKEN not in str(excinfo.value)


def test_key_is_not_a_command_line_argument():
    with pytest.raises(CommandError):
        call_command("onboard_firm", "921500033", "--key", demo.HOLDING_TOKEN)
