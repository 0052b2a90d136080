"""Report packs: save the accountant's comments, queue a pack (one firm) or a batch (an office's
firms for a month), and make a queued pack in the worker.

A pack is requested as a row (`ReportPack`, status *queued*) in the same transaction as the click,
and its task is enqueued on commit through `ledger.queue.enqueue` by the task's stable name (the
service never imports its task module). The worker claims the row with a conditional update
(queued → running), so a task delivered twice makes one PDF; a failure is stored on the row with
its reason and the page says so.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Mapping

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from companies.models import Company, Membership, OfficeKey, Role, User
from ledger.models import ReportBatch, ReportComment, ReportPack
from ledger.models.reporting import COMMENT_MAX_LENGTH, Section
from ledger.packs.pdf import pack_render
from ledger.queue import PACK_GENERATE, enqueue

logger = logging.getLogger(__name__)

# One-click packs go to the interactive queue (the task's default), a batch's to the batch queue.
READ_ROLES = (Role.ACCOUNTANT, Role.FINANCE, Role.ADMIN)


class PackError(Exception):
    """A request that cannot be carried out; the message is for the person who asked."""


def comments_save(
    *, company: Company, month: datetime.date, texts: Mapping[str, str], by: User | None
) -> int:
    """Store the accountant's comment per section for the month (an empty text removes it).

    Returns how many sections changed."""
    changed = 0
    with transaction.atomic():
        existing = {
            c.section: c for c in ReportComment.objects.filter(company=company, month=month)
        }
        for section in Section.values:
            text = (texts.get(section) or "").strip().replace("\r\n", "\n")
            if len(text) > COMMENT_MAX_LENGTH:
                raise PackError(
                    _("A comment is longer than %(limit)s characters.")
                    % {"limit": COMMENT_MAX_LENGTH}
                )
            current = existing.get(section)
            if not text:
                if current is not None:
                    current.delete()
                    changed += 1
                continue
            if current is None:
                ReportComment.objects.create(
                    company=company, month=month, section=section, text=text, updated_by=by
                )
                changed += 1
            elif current.text != text:
                current.text, current.updated_by = text, by
                current.save(update_fields=["text", "updated_by", "updated_at"])
                changed += 1
    return changed


def pack_request(*, company: Company, month: datetime.date, by: User | None) -> ReportPack:
    """Queue a report pack of the firm through `month`; the worker makes it."""
    with transaction.atomic():
        pack = ReportPack.objects.create(company=company, month=month, requested_by=by)
        transaction.on_commit(lambda: _enqueue(pack, queue=None))
    return pack


def _enqueue(pack: ReportPack, *, queue: str | None) -> None:
    try:
        enqueue(PACK_GENERATE, queue=queue, company_id=pack.company_id, pack_id=pack.pk)
    except Exception:  # the broker is away: the row stays queued and the page says so
        logger.exception("report pack %s: could not enqueue", pack.pk)


def batch_firms(*, user: User, office: OfficeKey | None) -> list[Company]:
    """The firms of `office` (None: the firms on their own key) that `user` may read."""
    memberships = Membership.objects.filter(user=user, role__in=READ_ROLES)
    firms = Company.objects.filter(pk__in=memberships.values("company_id"))
    if office is None:
        firms = firms.filter(Q(tripletex__isnull=True) | Q(tripletex__office_key__isnull=True))
    else:
        firms = firms.filter(tripletex__office_key=office)
    return list(firms.order_by("name"))


def batch_offices(*, user: User) -> list[OfficeKey]:
    """The accounting offices that connect at least one firm `user` may read."""
    memberships = Membership.objects.filter(user=user, role__in=READ_ROLES)
    return list(
        OfficeKey.objects.filter(
            connections__company__in=memberships.values("company_id")
        ).distinct()
    )


def batch_start(
    *, user: User, office: OfficeKey | None, label: str, month: datetime.date
) -> ReportBatch:
    """Queue a report pack through `month` for every firm of the office the user may read."""
    firms = batch_firms(user=user, office=office)
    if not firms:
        raise PackError(_("There are no firms to make report packs for."))
    with transaction.atomic():
        batch = ReportBatch.objects.create(
            month=month, office=office, label=label, created_by=user, total=len(firms)
        )
        packs = []
        for firm in firms:
            with scope(company=firm):
                packs.append(
                    ReportPack.objects.create(
                        company=firm, month=month, requested_by=user, batch=batch
                    )
                )
        queue = str(settings.CELERY_BATCH_QUEUE)

        def enqueue_all() -> None:
            for pack in packs:
                _enqueue(pack, queue=queue)

        transaction.on_commit(enqueue_all)
    return batch


def pack_generate(*, company: Company, pack_id: int) -> str:
    """Make a queued pack: claim it, build the PDF, store it. Returns the outcome."""
    claimed = ReportPack.objects.filter(
        company=company, pk=pack_id, status=ReportPack.Status.QUEUED
    ).update(status=ReportPack.Status.RUNNING, started_at=timezone.now())
    if claimed != 1:
        return "not-queued"
    pack = ReportPack.objects.get(company=company, pk=pack_id)
    try:
        rendered = pack_render(company=company, month=pack.month)
    except Exception as exc:
        logger.exception("report pack %s of company %s failed", pack_id, company.pk)
        pack.status, pack.error = ReportPack.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        pack.finished_at = timezone.now()
        pack.save(update_fields=["status", "error", "finished_at"])
        return "failed"
    pack.pdf, pack.size, pack.pages = rendered.data, len(rendered.data), rendered.pages
    pack.status, pack.finished_at = ReportPack.Status.DONE, timezone.now()
    pack.save(update_fields=["pdf", "size", "pages", "status", "finished_at"])
    return "done"
