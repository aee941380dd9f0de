#!/usr/bin/python3
# schema_check.py SCHEMA.json FILE.json... — validate real xenguard JSON output
# against its schema in doc/ with Debian's python3-jsonschema (Draft 2020-12).
# Prints one line per problem (FILE: path: message) and exits 1 on any; 0 when
# every file is valid. Run with /usr/bin/python3 (Debian's, which has the
# module), not a pyenv shim.
import json
import sys

import jsonschema


def main(argv):
    if len(argv) < 3:
        print("usage: schema_check.py SCHEMA FILE...", file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        schema = json.load(f)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema, format_checker=jsonschema.FormatChecker())
    bad = 0
    for path in argv[2:]:
        with open(path) as f:
            doc = json.load(f)
        for e in sorted(validator.iter_errors(doc), key=lambda e: list(e.path)):
            where = "/".join(str(p) for p in e.path) or "(top)"
            print(f"{path}: {where}: {e.message}")
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
