"""Small JSON state documents (extract watermarks) at a URI: a local path or `s3://bucket/key`,
with the same key layout in both places.

A local write goes to a temporary file that then replaces the document, so a crash never
leaves half a document; an S3 PUT is atomic per object already.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

Document = dict[str, Any]


def _s3_location(uri: str) -> tuple[str, str] | None:
    parsed = urlparse(uri)
    if parsed.scheme not in ("s3", "s3a"):
        return None
    return parsed.netloc, parsed.path.lstrip("/")


def _s3_client() -> Any:
    import boto3  # only where state lives on S3; local runs need no AWS SDK

    return boto3.client("s3")


def read_document(uri: str, s3_client: Any = None) -> Document | None:
    """The JSON document at `uri`, or None when there is none yet."""
    location = _s3_location(uri)
    if location is None:
        path = Path(uri)
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    client = s3_client or _s3_client()
    bucket, key = location
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
    except client.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def write_document(uri: str, document: Document, s3_client: Any = None) -> None:
    """Replace the JSON document at `uri` as a whole."""
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    location = _s3_location(uri)
    if location is None:
        path = Path(uri)
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=path.parent, prefix=f".{path.name}.", delete=False, encoding="utf-8"
        ) as temporary:
            temporary.write(text)
        os.replace(temporary.name, path)
        return
    bucket, key = location
    client = s3_client or _s3_client()
    client.put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType="application/json")
