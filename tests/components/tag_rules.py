"""What AWS accepts as resource tags, as a check (the mocks accept any tags).

Source: the tag restrictions every tagging service documents (e.g. ECS API reference, Tag; AWS Batch user guide,
"Tag restrictions"): at most 50 tags per resource; keys of 1..128 and values of up to 256 Unicode characters;
"generally allowed characters are letters, numbers, spaces representable in UTF-8, and the following characters:
+ - = . _ : / @"; keys and values must not start with `aws:` in any letter case (reserved for AWS).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

MAX_TAGS, MAX_KEY, MAX_VALUE = 50, 128, 256
ALLOWED = re.compile(r"^[\w\s+\-=.:/@]*$")


def tag_problems(tags: Mapping[str, object]) -> list[str]:
    """Why a tagging API would refuse `tags`, or nothing."""
    problems = [f"{len(tags)} tags: allowed: at most {MAX_TAGS}"] if len(tags) > MAX_TAGS else []
    for key, value in tags.items():
        text = str(value)
        if not 1 <= len(key) <= MAX_KEY:
            problems.append(f"key {key!r}: allowed: 1..{MAX_KEY} characters")
        if len(text) > MAX_VALUE:
            problems.append(f"{key}: value of {len(text)} characters; allowed: at most {MAX_VALUE}")
        for part, what in ((key, "key"), (text, "value")):
            if part.lower().startswith("aws:"):
                problems.append(f"{key}: {what} starts with aws: (reserved for AWS)")
            if not ALLOWED.match(part):
                problems.append(f"{key}: {what} {part!r} has characters outside letters, digits, spaces and +-=._:/@")
    return problems
