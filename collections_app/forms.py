"""The queue page's forms: its filters and a manager's reassignment."""

from __future__ import annotations

from django import forms


class QueueFilterForm(forms.Form):
    bucket = forms.ChoiceField(required=False, label="Bucket")
    assignee = forms.ChoiceField(
        required=False, label="Assignee", choices=[("", "Everyone"), ("me", "Mine")]
    )

    def __init__(self, *args, buckets: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["bucket"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "Every bucket"), *((b, b) for b in buckets)]


class CaseAssignForm(forms.Form):
    assignee = forms.TypedChoiceField(coerce=int, label="Assign to")

    def __init__(self, *args, collectors: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = collectors


# --------------------------------------------------------------------------- workouts


class HardshipRequestForm(forms.Form):
    """A hardship plan request (a collector on the case page, a borrower in the portal)."""

    kind = forms.ChoiceField(label="Kind of plan")
    months = forms.IntegerField(label="Months", min_value=1, max_value=12)
    reason = forms.CharField(
        label="Reason", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, **kwargs):
        from .models import HardshipPlan

        super().__init__(*args, **kwargs)
        field = self.fields["kind"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = HardshipPlan.Kind.choices


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(label="Reason", max_length=255, required=False)


class RecommendForm(forms.Form):
    reason = forms.CharField(label="Why charge it off", max_length=255)


class PlacementForm(forms.Form):
    agency = forms.CharField(label="Agency", max_length=100)
    recommendations = forms.TypedMultipleChoiceField(coerce=int, label="Charged-off cases")

    def __init__(self, *args, choices: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["recommendations"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices
