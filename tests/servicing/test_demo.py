from lendcore.accounts.demo import seed_demo_users
from servicing.demo import seed_demo
from servicing.models import Loan
from servicing.selectors import business_date_get, loan_dpd


def test_seed_demo_has_loans_in_every_condition_and_is_idempotent(db):
    seed_demo_users()
    first = seed_demo()
    again = seed_demo()

    loans = {loan.application_ref: loan for loan in Loan.objects.all()}
    assert len(loans) == 5
    assert loans["DEMO-LOAN-1"].status == "active"
    assert loan_dpd(loans["DEMO-LOAN-1"]) == 0
    assert loans["DEMO-LOAN-2"].principal_balance < loans["DEMO-LOAN-2"].principal_amount - 2000
    assert loan_dpd(loans["DEMO-LOAN-3"]) > 30
    assert loans["DEMO-LOAN-3"].fees_balance > 0
    assert loans["DEMO-LOAN-4"].status == "charged_off"
    assert loans["DEMO-LOAN-5"].status == "paid_off"
    assert len([line for line in first if line.startswith("Demo loan")]) == 5
    assert not [line for line in again if line.startswith("Demo loan")]
    assert business_date_get() == loans["DEMO-LOAN-1"].last_accrual_date
