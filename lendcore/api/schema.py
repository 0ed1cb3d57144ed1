"""OpenAPI generation tweaks."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names a serializer nested in a view after the view: `PaymentPostApiInput`.

    Every APIView declares its own `InputSerializer`/`OutputSerializer` (STYLE.md); without
    this they would all collide on the component names "Input" and "Output".
    """

    def get_serializer_name(self, serializer, direction):
        qualname = type(serializer).__qualname__
        if "." in qualname:
            return qualname.replace(".", "").replace("Serializer", "")
        return super().get_serializer_name(serializer, direction)
