"""ECR BatchGetImage names each image by the tag it was asked for.

An image can carry several tags (PutImage of one manifest under a second tag
adds the tag to the same image: ``imageTags`` of DescribeImages lists both).
BatchGetImage finds an image by any of its tags (moto PR #6230, "contrary to
the functionality of batch_get_image against the AWS ECR API"), and its
answer identifies each image with an ``ImageIdentifier``, whose ``imageTag``
is "the tag used for the image" (botocore model, ecr ``ImageIdentifier``):
one tag, per identity, as ListImages lists an image once per tag (moto
issue #8269, PR #8296). moto 5.2.5 answers with the image's most recently
pushed tag instead, so a client that asks for ``v2`` of an image also tagged
``latest`` gets ``imageId.imageTag = "latest"`` back and cannot tell which
of its tags the digest belongs to. Here an image found by tag is named by
the tag asked for (BELIEF, from the model's wording; an image found by
digest keeps moto's answer).
"""

from __future__ import annotations

from typing import Any


class _AsRequested:
    """An image as BatchGetImage returns it for one requested tag."""

    def __init__(self, image: Any, tag: str) -> None:
        self._image = image
        self._tag = tag

    def __getattr__(self, name: str) -> Any:
        return getattr(self._image, name)

    @property
    def image_id(self) -> dict[str, str]:
        return {"imageTag": self._tag, "imageDigest": self._image.get_image_digest()}


def install() -> None:
    """Wraps moto's ``ECRBackend.batch_get_image`` (idempotent)."""
    from moto.ecr.models import ECRBackend

    original = ECRBackend.batch_get_image
    if getattr(original, "_names_requested_tag", False):
        return

    def batch_get_image(
        self: Any,
        repository_name: str,
        registry_id: str | None = None,
        image_ids: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        response = original(self, repository_name, registry_id, image_ids)
        images = []
        for image_id in image_ids or []:
            for image in self.repositories[repository_name].images:
                if "imageDigest" in image_id and image.get_image_digest() == image_id["imageDigest"]:
                    images.append(image)
                elif "imageTag" in image_id and image_id["imageTag"] in image.image_tags:
                    images.append(_AsRequested(image, image_id["imageTag"]))
        response["images"] = images
        return response

    batch_get_image._names_requested_tag = True  # type: ignore[attr-defined]
    ECRBackend.batch_get_image = batch_get_image  # type: ignore[method-assign]
