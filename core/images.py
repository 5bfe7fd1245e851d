"""Images people upload (card art): raster images only, recognised by their content, re-encoded before storing.

A file's name and declared type prove nothing, so Pillow decides what a file is, and only PNG, JPEG and WebP pass.
Re-encoding keeps the pixels alone: metadata and anything riding along (HTML after the image data, script in a
comment or text chunk) is dropped, and the stored file gets a generated name, so an uploader chooses neither its
name nor its extension. `RasterImageField` is the model field every upload uses; its form field checks the same.
"""

import io
import logging
import struct
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.db import models
from django.db.models.fields.files import FieldFile
from django.template.defaultfilters import filesizeformat
from PIL import Image, ImageOps

logger = logging.getLogger("portal.security")


@dataclass(frozen=True)
class RasterFormat:
    extension: str
    content_type: str


# Pillow's name of each accepted format: what a stored file of it is called and served as.
RASTER_FORMATS: dict[str, RasterFormat] = {
    "PNG": RasterFormat("png", "image/png"),
    "JPEG": RasterFormat("jpg", "image/jpeg"),
    "WEBP": RasterFormat("webp", "image/webp"),
}
_PILLOW_FORMATS = tuple(RASTER_FORMATS)
_SAVE_OPTIONS: dict[str, dict[str, Any]] = {"PNG": {}, "JPEG": {"quality": 90}, "WEBP": {"quality": 90}}
# Pillow's decoders raise many kinds of error on malformed input; each one means "not an image we take".
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    Image.DecompressionBombError,
    Image.DecompressionBombWarning,
)

NOT_AN_IMAGE = "Upload a PNG, JPEG or WebP image. This file is not one (its content counts, not its name)."


def raster_format(stream: Any) -> RasterFormat | None:
    """What a stored file is by its content (the header only), or None if it is no accepted raster image."""
    try:
        with Image.open(stream, formats=_PILLOW_FORMATS) as image:
            return RASTER_FORMATS[str(image.format)]
    except _DECODE_ERRORS:
        return None


def _decoded(upload: "File[Any]") -> Image.Image:
    """The upload decoded in full, or ValidationError saying why it is refused."""
    max_bytes: int = settings.PORTAL_IMAGE_UPLOAD_MAX_BYTES
    max_side: int = settings.PORTAL_IMAGE_UPLOAD_MAX_SIDE_PIXELS
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    if len(data) > max_bytes:
        raise ValidationError(
            f"The image is larger than {filesizeformat(max_bytes)}; upload a smaller one.", code="image_too_large"
        )
    try:
        with warnings.catch_warnings():
            # A small file that unpacks into a huge bitmap is refused before it is unpacked.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS).verify()
            image = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)  # verify() leaves its image unusable
            if max(image.size) > max_side:
                raise ValidationError(
                    f"The image is {image.width} x {image.height} pixels; at most {max_side} pixels a side are "
                    "accepted.",
                    code="image_too_large",
                )
            image.load()
    except _DECODE_ERRORS as error:
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image") from error
    return image


def validate_raster_image(value: "File[Any]") -> None:
    """Refuse a new upload that is not an accepted raster image within the limits (files stored before were
    checked when they came, and are checked again whenever they are served)."""
    if isinstance(value, FieldFile) and getattr(value, "_committed", False):
        return
    try:
        _decoded(value)
    except ValidationError as refusal:
        # Someone tried to store a non-image or an oversized one: worth a line for whoever watches security logs.
        logger.warning(
            "Image upload refused", extra={"reason": refusal.error_list[0].code, "upload_name": str(value.name)[:100]}
        )
        raise


def raster_image_reencode(upload: "File[Any]") -> "ContentFile[bytes]":
    """The upload's pixels in a freshly written file of the same format, under a generated name."""
    image = _decoded(upload)
    image_format = str(image.format)
    try:
        upright = ImageOps.exif_transpose(image)  # the orientation a camera recorded survives its metadata
        pixels = upright.convert("RGBA" if image.has_transparency_data and image_format != "JPEG" else "RGB")
        pixels.info = {}  # no ICC profile, EXIF or text chunks carried over
        encoded = io.BytesIO()
        pixels.save(encoded, format=image_format, **_SAVE_OPTIONS[image_format])
    except _DECODE_ERRORS as error:
        raise ValidationError(NOT_AN_IMAGE, code="not_an_image") from error
    return ContentFile(encoded.getvalue(), name=f"{uuid.uuid4()}.{RASTER_FORMATS[image_format].extension}")


class RasterImageFormField(forms.FileField):
    """The form side of `RasterImageField` (and of forms that take an image without a model field)."""

    default_validators = [validate_raster_image]

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs = super().widget_attrs(widget)
        if isinstance(widget, forms.FileInput):
            attrs.setdefault("accept", ",".join(f.content_type for f in RASTER_FORMATS.values()))
        return attrs


class RasterImageField(models.FileField):
    """A FileField that takes only accepted raster images and stores each re-encoded under a generated name.

    Model validation refuses anything else with a clear message; saving without validation re-encodes too, so no
    upload reaches storage as it came.
    """

    default_validators = [validate_raster_image]

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        file = getattr(model_instance, self.attname)
        if file and not file._committed:
            setattr(model_instance, self.attname, raster_image_reencode(file))
        return super().pre_save(model_instance, add)

    def formfield(
        self,
        form_class: type[forms.Field] | None = None,
        choices_form_class: type[forms.ChoiceField] | None = None,
        **kwargs: Any,
    ) -> forms.Field | None:
        return super().formfield(
            form_class=form_class or RasterImageFormField, choices_form_class=choices_form_class, **kwargs
        )
