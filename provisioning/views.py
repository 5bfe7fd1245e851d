"""Token requestor logos, served by the portal from its cache (never hot-linked from MDES)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from provisioning.models import LogoAsset

# An asset id never changes content, so browsers may keep a logo for a year without asking again.
LOGO_CACHE_CONTROL = "public, max-age=31536000, immutable"
# An SVG opened on its own must not run scripts or load anything: a sandboxed, resource-less document.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@require_GET
def token_requestor_logo(request: HttpRequest, asset_id: str, image_format: str) -> HttpResponse:
    logo = get_object_or_404(LogoAsset, asset_id=asset_id)
    if image_format == "svg" and logo.svg:
        response = HttpResponse(logo.svg, content_type="image/svg+xml")
    elif image_format == "png" and logo.png:
        response = HttpResponse(bytes(logo.png), content_type="image/png")
    else:
        raise Http404("No logo in that format")
    response["Content-Security-Policy"] = SVG_POLICY  # the site-wide policy middleware keeps a header already set
    response["Cache-Control"] = LOGO_CACHE_CONTROL
    return response
