"""Validates JUnit XML files against junit-10.xsd, the schema Jenkins' xUnit plugin publishes.

The schema is not copied into this repository: it is read from the source distribution of
pytest on PyPI (testing/example_scripts/junit-10.xsd, MIT licence), downloaded once, checked
against PyPI's sha256 and cached beside the test venv.

Usage: python junit_schema.py FILE...   prints "valid FILE" per file; exit 1 on the first invalid.
"""

import hashlib
import io
import os
import re
import sys
import tarfile
import urllib.request

import xmlschema

SDIST = "pytest-8.3.3.tar.gz"
MEMBER = "pytest-8.3.3/testing/example_scripts/junit-10.xsd"


def schema_path():
    cache = os.environ.get("SCUDO_TEST_CACHE", os.path.expanduser("~/.cache/scudo"))
    path = os.path.join(cache, "junit-10.xsd")
    if os.path.exists(path):
        return path
    page = urllib.request.urlopen("https://pypi.org/simple/pytest/", timeout=60).read().decode()
    link = re.search(r'href="([^"#]*/' + re.escape(SDIST) + r')#sha256=([0-9a-f]{64})"', page)
    if not link:
        sys.exit(f"{SDIST} is not on PyPI's simple index")
    data = urllib.request.urlopen(link.group(1), timeout=120).read()
    if hashlib.sha256(data).hexdigest() != link.group(2):
        sys.exit(f"{SDIST}: sha256 does not match PyPI's")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        xsd = tar.extractfile(MEMBER).read()
    os.makedirs(cache, exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(xsd)
    os.replace(tmp, path)
    return path


def main():
    schema = xmlschema.XMLSchema(schema_path())
    for file in sys.argv[1:]:
        errors = list(schema.iter_errors(file))
        if errors:
            for e in errors[:5]:
                print(f"invalid {file}: {e.reason} at {e.path}", file=sys.stderr)
            sys.exit(1)
        print(f"valid {file}")


if __name__ == "__main__":
    main()
