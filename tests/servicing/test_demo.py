from datetime import timedelta

from lendcore.accounts.demo import seed_demo_users
from servicing.demo import seed_demo
from servicing.models import CobRun, Loan
from servicing.selectors import business_date_get, loan_dpd


def test_seed_demo_has_loans_in_every_condition_and_is_idempotent(db):
    seed_demo_users()
    first = seed_demo()
    runs = CobRun.objects.count()
    again = seed_demo()

    loans = {loan.application_ref: loan for loan in Loan.objects.all()}
    assert len(loans) == 10
    assert loans["DEMO-LOAN-1"].status == "active"
    assert loan_dpd(loans["DEMO-LOAN-1"]) == 0
    assert loans["DEMO-LOAN-2"].principal_balance < loans["DEMO-LOAN-2"].principal_amount - 2000
    assert loan_dpd(loans["DEMO-LOAN-2"]) == 0
    # delinquency by close of business, not by hand: days past due, buckets, late fees
    assert loans["DEMO-LOAN-3"].dpd >= 120
    assert loans["DEMO-LOAN-3"].delinquency_bucket == "120+"
    assert loans["DEMO-LOAN-3"].fees_balance > 0
    assert loans["DEMO-LOAN-6"].delinquency_bucket == "90-119"
    assert loans["DEMO-LOAN-7"].delinquency_bucket == "60-89"
    assert loans["DEMO-LOAN-8"].delinquency_bucket == "30-59"
    assert loans["DEMO-LOAN-9"].delinquency_bucket == "1-29"
    assert loans["DEMO-LOAN-4"].status == "charged_off"
    assert loans["DEMO-LOAN-5"].status == "paid_off"
    assert len([line for line in first if line.startswith("Demo loan")]) == 10
    assert not [line for line in again if line.startswith("Demo loan")]
    assert CobRun.objects.count() == runs
    yesterday = business_date_get() - timedelta(days=1)
    assert loans["DEMO-LOAN-1"].last_closed_on == yesterday
    assert loans["DEMO-LOAN-1"].last_accrual_date == yesterday
