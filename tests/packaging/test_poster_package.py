"""The poster pieces of template.yaml: Pillow's layer only on the poster function, the API may
invoke it, both reach the private, encrypted materials bucket."""

from __future__ import annotations

import json
from typing import Any

from tests.packaging._support import functions, layers


def _by_handler(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    ((lid, props),) = [(lid, p) for lid, p in functions(template).items() if p["Handler"] == handler]
    return lid, props


def test_only_the_poster_function_carries_the_poster_layer(template: dict[str, Any]) -> None:
    (poster_layer,) = [
        lid for lid, res in layers(template).items() if res["Properties"]["ContentUri"] == "layers/poster/"
    ]
    poster_lid, poster = _by_handler(template, "poster.handler")
    assert {"Ref": poster_layer} in poster["Layers"]
    for lid, props in functions(template).items():
        if lid != poster_lid:
            assert {"Ref": poster_layer} not in (props.get("Layers") or []), lid
    assert {"Ref": poster_layer} not in template["Globals"]["Function"]["Layers"]


def test_api_invokes_the_poster_function_and_both_reach_the_bucket(
    template: dict[str, Any], transformed: dict[str, Any]
) -> None:
    poster_lid, _ = _by_handler(template, "poster.handler")
    api_lid, api = _by_handler(template, "app.app")
    assert api["Environment"]["Variables"]["RIPPLE_POSTER_FUNCTION"] == {"Ref": poster_lid}
    assert api["Environment"]["Variables"]["RIPPLE_POSTER_INVOKE"] == "lambda"
    bucket_ref = template["Globals"]["Function"]["Environment"]["Variables"]["RIPPLE_BUCKET"]
    bucket = template["Resources"][bucket_ref["Ref"]]
    assert bucket["Type"] == "AWS::S3::Bucket"
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert all(
        block[k] is True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
    )
    assert bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]

    def statements(function: str) -> str:
        role = transformed["Resources"][function]["Properties"]["Role"]["Fn::GetAtt"][0]
        return json.dumps(transformed["Resources"][role]["Properties"]["Policies"])

    assert "lambda:InvokeFunction" in statements(api_lid) and poster_lid in statements(api_lid)
    for lid in (api_lid, poster_lid):
        assert "s3:PutObject" in statements(lid) and bucket_ref["Ref"] in statements(lid), lid
    assert "lambda:InvokeFunction" not in statements(poster_lid)


def test_the_upload_types_arrive_decoded() -> None:
    """The HTTP API base64-encodes every non-text request body (it has no BinaryMediaTypes);
    Chalice decodes ``isBase64Encoded`` bodies, so an upload reaches the view as its bytes."""
    import base64

    from chalice.app import Request

    from app import app

    # the image uploads, and CSV employee imports (Shift_JIS/GBK bytes must arrive unmangled)
    assert set(app.api.binary_types) == {
        "image/jpeg",
        "image/png",
        "image/webp",
        "text/csv",
        "application/vnd.ms-excel",
    }
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    event = {
        "multiValueQueryStringParameters": None,
        "headers": {"content-type": "image/png"},
        "pathParameters": None,
        "requestContext": {"httpMethod": "POST", "resourcePath": "/admin/materials"},
        "body": base64.b64encode(png).decode(),
        "isBase64Encoded": True,
        "stageVariables": None,
    }
    assert Request(event).raw_body == png
