"""Pictures and videos in a document's body and package."""

from __future__ import annotations

import re
from typing import Any

from intake.documents.docx_xml import OFFICE, PIC, WP15, A, Element, R, V, W, walk

_VIDEO_EXTENSIONS = re.compile(
    rb"\.(mp4|m4v|avi|wmv|mov|mpg|mpeg|flv|mkv|3gp|rmvb|rm|webm|asf)\x00", re.IGNORECASE
)
_VIDEO_PARTNAME = re.compile(r"\.(mp4|m4v|avi|wmv|mov|mpg|mpeg|flv|mkv|3gp|webm|asf)$", re.I)


def pictures(body: Element) -> int:
    """Images in the body: DrawingML pictures (pic:pic) and VML images (v:imagedata).

    The VML copy Word keeps for old readers (mc:Fallback) and the preview image of an
    embedded object (w:object) are not pictures of their own; a picture that plays a video
    counts as a video.
    """
    count = 0
    for element in walk(body):
        if element.tag == f"{PIC}pic":
            count += not _plays_video(element)
        elif element.tag == f"{V}imagedata":
            count += not any(a.tag == f"{W}object" for a in element.iterancestors())
    return count


def _plays_video(picture: Element) -> bool:
    return any(element.tag in (f"{A}videoFile", f"{WP15}webVideoPr") for element in picture.iter())


def videos(body: Element, part: Any) -> int:
    """Videos: pictures that play one, embedded objects holding a video file, video parts."""
    rels = part.rels
    counted: set[str] = set()
    count = 0
    for element in walk(body):
        if element.tag == f"{PIC}pic" and _plays_video(element):
            count += 1
            for marker in element.iter(f"{A}videoFile"):
                for attribute in (f"{R}link", f"{R}embed"):
                    target = _internal_target(rels, marker.get(attribute))
                    if target is not None:
                        counted.add(str(target.partname))
        elif element.tag == f"{OFFICE}OLEObject":
            target = _internal_target(rels, element.get(f"{R}id"))
            if target is not None and _is_video_part(target):
                count += 1
                counted.add(str(target.partname))
    for other in part.package.iter_parts():
        if str(other.partname) not in counted and _is_video_part(other):
            count += 1
    return count


def _internal_target(rels: Any, rel_id: str | None) -> Any:
    rel = rels.get(rel_id) if rel_id else None
    return None if rel is None or rel.is_external else rel.target_part


def _is_video_part(part: Any) -> bool:
    content_type = str(part.content_type).lower()
    if content_type.startswith("video/") or _VIDEO_PARTNAME.search(str(part.partname)):
        return True
    # An object made from a file ("Package") stores the file's name: …\班会实录.mp4
    return "oleobject" in content_type and _VIDEO_EXTENSIONS.search(part.blob) is not None
