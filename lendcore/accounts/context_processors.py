from django.http import HttpRequest

from .selectors import user_is_staff_member, user_roles


def roles(request: HttpRequest) -> dict:
    user = request.user
    return {
        "is_staff_member": user_is_staff_member(user),
        "user_roles": user_roles(user),
    }
