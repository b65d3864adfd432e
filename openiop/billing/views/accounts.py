"""The patient's bill pages (issue 16 points 6 and 7): the patients with an account and their
balances, a patient's ledger (entries with the running balance, insurance and patient balances,
the plan's status, forms to record a payment, a refund (confirmed first), a sliding-fee agreement,
a payment plan, a statement), and a statement as PDF.

Billing staff see amounts, dates, service codes and payers here, never a diagnosis or a note
(minimum necessary). Reads go through billing.selectors_accounts, writes through
billing.services.accounts; DomainErrors become form errors (refusals) or the 403 page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from openiop.accounts.domain import Cap
from openiop.billing import selectors_accounts as selectors
from openiop.billing import services
from openiop.billing.forms_accounts import (
    PaymentForm,
    PaymentPlanForm,
    RefundForm,
    SlidingFeeForm,
    StatementForm,
)
from openiop.core.actor import Actor
from openiop.ui.pdf import pdf_response
from openiop.ui.views_support import paginate, refusals, staff_view

ACTIONS = ("payment", "refund", "agreement", "plan", "plan_cancel", "statement")


@staff_view(Cap.REVENUE_MANAGE)
def balances(request: HttpRequest) -> HttpResponse:
    """The patients with anything on their account, by name, with their balances (search by
    name or MRN; one audit entry naming the patients shown)."""
    actor = Actor.from_request(request)
    search = request.GET.get("q", "")[:100]
    page = paginate(request, selectors.account_patients(actor=actor, search=search))
    rows = selectors.balances_for(actor=actor, patients=list(page.object_list))
    return render(request, "billing/balances.html", {"page": page, "rows": rows, "q": search})


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def ledger(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = Actor.from_request(request)
    book = selectors.patient_ledger(actor=actor, patient_id=patient_id)
    patient = book.patient
    post = request.POST if request.method == "POST" else None
    action = request.POST.get("action", "") if post is not None else ""
    today = book.today

    def bound(name: str) -> Any:
        return post if action == name else None

    estimates = selectors.patient_estimates(patient)
    forms: dict[str, Any] = {
        "payment": PaymentForm(bound("payment"), prefix="payment", initial={"date": today}),
        "refund": RefundForm(bound("refund"), prefix="refund", initial={"date": today}),
        "agreement": SlidingFeeForm(
            bound("agreement"),
            prefix="agreement",
            estimates=estimates,
            initial={"effective_from": today},
        ),
        "plan": PaymentPlanForm(
            bound("plan"),
            prefix="plan",
            initial={
                "total": book.balances.patient if book.balances.patient > 0 else None,
                "installments": 3,
                "cadence": "monthly",
            },
        ),
        "statement": StatementForm(
            bound("statement"),
            prefix="statement",
            initial={"period_start": today.replace(day=1), "period_end": today},
        ),
    }
    back = redirect("billing:ledger", patient_id=patient.pk)
    if post is not None and action in ACTIONS:
        if action == "plan_cancel":
            if book.plan is not None and request.POST.get("confirm") == "yes":
                with refusals(request, flash=True):
                    services.payment_plan_cancel(by=actor, plan=book.plan)
                    messages.success(request, "Payment plan cancelled.")
                return back
            if book.plan is not None:
                return render(
                    request,
                    "billing/account_confirm.html",
                    {"book": book, "what": "plan_cancel", "fields": {}},
                )
            return back
        form = forms[action]
        if form.is_valid():
            data = form.cleaned_data
            if action == "refund" and request.POST.get("confirm") != "yes":
                # The review runs the recording's own check: a refund refused afterwards is
                # refused here, on the form, with what was typed.
                with refusals(request, form):
                    after = services.refund_review(by=actor, patient=patient, **data)
                    return render(
                        request,
                        "billing/account_confirm.html",
                        {
                            "book": book,
                            "what": "refund",
                            "form": form,
                            "after": after,
                            "fields": {
                                "refund-amount": data["amount"],
                                "refund-date": data["date"].isoformat(),
                                "refund-reason": data["reason"],
                            },
                        },
                    )
            else:
                with refusals(request, form):
                    if action == "payment":
                        services.payment_record(by=actor, patient=patient, **data)
                        messages.success(request, "Payment recorded.")
                    elif action == "refund":
                        services.refund_record(by=actor, patient=patient, **data)
                        messages.success(request, "Refund recorded.")
                    elif action == "agreement":
                        services.sliding_fee_agree(by=actor, patient=patient, **data)
                        messages.success(request, "Sliding-fee agreement recorded.")
                    elif action == "plan":
                        services.payment_plan_create(by=actor, patient=patient, **form.plan_args())
                        messages.success(request, "Payment plan recorded.")
                    else:
                        row = services.statement_generate(by=actor, patient=patient, **data)
                        messages.success(request, "Statement generated.")
                        return redirect("billing:statement_pdf", statement_id=row.pk)
                    return back
    return render(
        request,
        "billing/ledger.html",
        {"book": book, "patient": patient, "forms": forms, "open_form": action},
    )


@staff_view(Cap.REVENUE_MANAGE, patient_data=True)
def statement_pdf(request: HttpRequest, statement_id: int) -> HttpResponse:
    printed = selectors.statement_get(actor=Actor.from_request(request), statement_id=statement_id)
    return pdf_response(
        request,
        "billing/statement_print.html",
        {"printed": printed, "statement": printed.statement, "patient": printed.patient},
        filename=f"statement-{printed.record.pk}.pdf",
    )
