"""Default dunning: an e-mail at 3 days past due, an SMS at 10 and a letter at 30. Edited
(or switched off) in the admin afterwards."""

from django.db import migrations

TEMPLATES = [
    (
        "overdue-email",
        "Overdue: e-mail at 3 days",
        "Your payment on loan {{ loan.loan_number }} is overdue",
        "Dear {{ borrower.first_name }},\n\n"
        "Your loan {{ loan.loan_number }} is {{ dpd }} days past due: "
        "${{ amount_past_due }} is overdue. Please pay it in the portal, or call us if you "
        "need help: we can arrange a payment plan.\n\n"
        "This is a communication from a creditor attempting to collect a debt.\n\n{{ lender_name }}",
    ),
    (
        "overdue-sms",
        "Overdue: SMS at 10 days",
        "Loan {{ loan.loan_number }} overdue",
        "{{ lender_name }}: loan {{ loan.loan_number }} is {{ dpd }} days past due "
        "(${{ amount_past_due }}). Pay in the portal or call us. Reply STOP to opt out.",
    ),
    (
        "overdue-letter",
        "Overdue: letter at 30 days",
        "Notice of overdue payment",
        "Dear {{ borrower.full_name }},\n\n"
        "Our records show that loan {{ loan.loan_number }} is {{ dpd }} days past due, with "
        "${{ amount_past_due }} overdue as of {{ business_date|date:'F j, Y' }}.\n\n"
        "Please pay the amount past due, or contact us to discuss your options, including a "
        "hardship plan. If you dispute this debt, tell us and we will pause collection until "
        "we have verified it.",
    ),
]
RULES = [  # (template code, name, channel, dpd)
    ("overdue-email", "E-mail at 3 days past due", "email", 3),
    ("overdue-sms", "SMS at 10 days past due", "sms", 10),
    ("overdue-letter", "Letter at 30 days past due", "letter", 30),
]


def seed(apps, schema_editor):
    Template = apps.get_model("collections_app", "DunningTemplate")
    Rule = apps.get_model("collections_app", "DunningRule")
    for code, name, subject, body in TEMPLATES:
        Template.objects.get_or_create(
            code=code, defaults={"name": name, "subject": subject, "body": body}
        )
    for code, name, channel, dpd in RULES:
        if not Rule.objects.filter(name=name).exists():
            Rule.objects.create(
                name=name,
                channel=channel,
                template=Template.objects.get(code=code),
                dpd_from=dpd,
            )


def unseed(apps, schema_editor):
    Rule = apps.get_model("collections_app", "DunningRule")
    Template = apps.get_model("collections_app", "DunningTemplate")
    Rule.objects.filter(name__in=[name for _, name, _, _ in RULES], notices__isnull=True).delete()
    Template.objects.filter(code__in=[code for code, *_ in TEMPLATES], rules__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("collections_app", "0002_workspace")]

    operations = [migrations.RunPython(seed, unseed)]
