"""What every list's filters share (django-filter), for the API and the staff UI alike."""

from __future__ import annotations

import django_filters


class StrictFilterSet(django_filters.FilterSet):
    """Also refuses a filter given empty or twice: a form would read either as "no filter"
    (or the last value), which is not what the client asked. The staff UI leaves out the
    empty fields of its forms before it filters."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        data = self.data
        for name in self.filters:
            if name not in data:
                continue
            values = data.getlist(name) if hasattr(data, "getlist") else [data[name]]
            if len(values) > 1:
                self.form.add_error(name, "Give this filter once.")
                valid = False
            elif values[0] in ("", None):
                self.form.add_error(name, "Give a value, or leave this filter out.")
                valid = False
        return valid
