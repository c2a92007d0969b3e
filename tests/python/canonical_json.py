#!/usr/bin/env python3
"""Canonical JSON as securesystemslib computes it (what TUF signatures cover).

Reads a JSON array of JSON *texts* (strings) on stdin. For each text, parses
it with json.loads and encodes it with
securesystemslib.formats.encode_canonical(...).encode("utf-8"), exactly as
python-tuf's CanonicalJSONSerializer does.

Prints a JSON array to stdout, one entry per input, in order:
{"hex": canonical bytes as hex} or {"error": "<ExceptionName>: message"}
when the value has no canonical form (or the text does not parse).
"""

import json
import sys

from securesystemslib.formats import encode_canonical


def canonical(text):
    try:
        value = json.loads(text)
        return {"hex": encode_canonical(value).encode("utf-8").hex()}
    except Exception as e:  # each case reports its own failure
        return {"error": f"{type(e).__name__}: {e}"}


def main():
    texts = json.load(sys.stdin)
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        print("canonical_json: stdin must be a JSON array of strings", file=sys.stderr)
        return 2
    json.dump([canonical(t) for t in texts], sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
