#!/usr/bin/env python3
"""An example scudo action plugin in Python (docs/plugins.md).

It reads the JSON document scudo writes on stdin (automation, run, audience rows, context), writes
one line per audience row to notify.log in the workspace (stand-in for a chat message or a CRM
task), and answers with a JSON result on stdout. With `params.fail = "yes"` it reports a failure,
so that the run history shows how a failing plugin looks.

    [[automation]]
    name = "notify-at-risk"
    cron = "0 9 * * MON"
    action = "notify"
    exec = "examples/plugins/scudo-action-notify.py"
    audience = "campaigns.at_risk"
"""
import json
import sys


def main():
    doc = json.load(sys.stdin)
    if doc.get("protocol") != 1:
        print("unknown protocol %r" % doc.get("protocol"), file=sys.stderr)
        return 2
    auto = doc["automation"]
    run = doc["run"]
    params = auto.get("params") or {}
    if params.get("fail") == "yes":
        print(json.dumps({"status": "failed", "message": "asked to fail (params.fail)"}))
        return 0
    rows = (doc.get("audience") or {}).get("rows") or []
    with open("notify.log", "a", encoding="utf-8") as log:
        for r in rows:
            log.write("%s\t%s\t%s\t%s\n" % (auto["name"], run["period"], r.get("name"), r.get("reason") or ""))
    print("notify: %d row(s) for %s, period %s" % (len(rows), auto["name"], run["period"]), file=sys.stderr)
    print(json.dumps({"status": "ok", "sent": len(rows), "message": "wrote %d line(s) to notify.log" % len(rows)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
