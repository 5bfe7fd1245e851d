"""Uploaded images (finding 2): only PNG, JPEG and WebP by content, within limits, stored re-encoded under a
generated name; every upload field of every app is such a field."""

import io
import re
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.test import override_settings
from PIL import Image

from cardholders.models import Program
from core.images import NOT_AN_IMAGE, RasterImageField, raster_image_reencode, validate_raster_image
from tests.images import REFUSED, SCRIPT, jpeg_with_exif, png_with_script_in_metadata, raster, refused, upload

GENERATED_NAME = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_every_upload_field_of_every_app_takes_only_raster_images() -> None:
    upload_fields = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    assert upload_fields  # card, program and landing-link art at least
    for label in upload_fields:
        model_label, field_name = label.rsplit(".", 1)
        assert isinstance(apps.get_model(model_label)._meta.get_field(field_name), RasterImageField), label


@pytest.mark.parametrize("case", REFUSED)
def test_what_is_not_a_png_jpeg_or_webp_by_content_is_refused_whatever_its_name(case: str, caplog: Any) -> None:
    with pytest.raises(ValidationError) as refusal:
        validate_raster_image(refused(case))
    assert refusal.value.messages == [NOT_AN_IMAGE]
    assert "Image upload refused" in caplog.text


@pytest.mark.parametrize(("image_format", "extension"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_a_real_image_is_re_encoded_in_its_format_under_a_generated_name(image_format: str, extension: str) -> None:
    # Named and declared as something else: the content decides.
    stored = raster_image_reencode(upload("card.html", raster(image_format, (64, 40)), "text/html"))
    assert re.fullmatch(rf"{GENERATED_NAME}\.{extension}", str(stored.name))
    with Image.open(io.BytesIO(stored.read())) as image:
        assert (image.format, image.size) == (image_format, (64, 40))


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(raster("PNG") + b"<html>" + SCRIPT + b"</html>", id="HTML after the PNG data"),
        pytest.param(raster("JPEG") + SCRIPT, id="script after the JPEG data"),
        pytest.param(png_with_script_in_metadata(), id="script in a PNG text chunk"),
        pytest.param(jpeg_with_exif(), id="EXIF with a script and a location"),
    ],
)
def test_nothing_but_the_pixels_is_kept(content: bytes) -> None:
    stored = raster_image_reencode(upload("art.png", content)).read()
    assert b"script" not in stored
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif()
        assert not set(image.info) & {"exif", "icc_profile", "Comment", "comment"}


@override_settings(PORTAL_IMAGE_UPLOAD_MAX_BYTES=4096)
def test_an_image_over_the_byte_limit_is_refused() -> None:
    big = raster("PNG", (64, 64), noise=True)
    assert len(big) > 4096
    with pytest.raises(ValidationError) as refusal:
        validate_raster_image(upload("art.png", big))
    assert refusal.value.messages == ["The image is larger than 4.0\xa0KB; upload a smaller one."]
    assert refusal.value.error_list[0].code == "image_too_large"
    validate_raster_image(upload("art.png", raster("PNG", (64, 64))))  # the same size, compressible: taken


@override_settings(PORTAL_IMAGE_UPLOAD_MAX_SIDE_PIXELS=100)
@pytest.mark.parametrize("size", [(101, 10), (10, 101)])
def test_an_image_over_the_pixel_limit_on_either_side_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(ValidationError, match="at most 100 pixels a side") as refusal:
        validate_raster_image(upload("art.png", raster("PNG", size)))
    assert refusal.value.error_list[0].code == "image_too_large"
    validate_raster_image(upload("art.png", raster("PNG", (100, 100))))


def test_a_small_file_that_would_unpack_into_a_huge_bitmap_is_refused_by_default() -> None:
    out = io.BytesIO()
    Image.new("1", (5000, 5000)).save(out, format="PNG")
    assert len(out.getvalue()) < 100_000
    with pytest.raises(ValidationError, match="5000 x 5000 pixels"):
        validate_raster_image(upload("art.png", out.getvalue()))


@pytest.mark.django_db
def test_model_validation_refuses_a_non_image_beside_its_field() -> None:
    program = Program(name="Sunny Gifts", card_art=refused("html"))
    with pytest.raises(ValidationError) as refusal:
        program.full_clean()
    assert refusal.value.message_dict == {"card_art": [NOT_AN_IMAGE]}


@pytest.mark.django_db
def test_saving_stores_the_re_encoded_image_under_the_fields_folder_and_a_generated_name() -> None:
    program = Program.objects.create(name="Sunny Gifts", card_art=upload("../evil.html", raster("PNG") + SCRIPT))
    assert re.fullmatch(rf"program-art/{GENERATED_NAME}\.png", program.card_art.name)
    with default_storage.open(program.card_art.name) as stored:
        content = stored.read()
    assert content.startswith(b"\x89PNG")
    assert SCRIPT not in content


@pytest.mark.django_db
def test_saving_without_validation_still_refuses_a_non_image() -> None:
    with pytest.raises(ValidationError), transaction.atomic():
        Program.objects.create(name="Sunny Gifts", card_art=refused("svg"))
    assert not Program.objects.exists()


@pytest.mark.django_db
def test_art_stored_before_is_kept_when_the_record_is_validated_again() -> None:
    program = Program.objects.create(name="Sunny Gifts", card_art=upload("art.png", raster("PNG")))
    name = program.card_art.name
    program = Program.objects.get(pk=program.pk)
    program.full_clean()
    program.save()
    assert program.card_art.name == name
