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
