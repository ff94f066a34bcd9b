"""Reads one RFC 5322 message with Python's `email` package and prints what the tests assert on,
as JSON: headers, the MIME tree, the text and HTML parts, the inline images and whether every
`cid:` in the HTML resolves to one. With OUTDIR, also writes the HTML with each `cid:` pointed at
the image file written beside it (what a mail client shows), for a browser to render.

    python inspect_eml.py MESSAGE.eml [OUTDIR]
"""
import email
import email.policy
import json
import os
import re
import sys


def tree(part):
    node = {"type": part.get_content_type()}
    if part.is_multipart():
        node["parts"] = [tree(p) for p in part.iter_parts()]
    return node


def main():
    raw = open(sys.argv[1], "rb").read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    text = html = None
    images = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "text/plain" and text is None:
            text = part.get_content()
        elif ctype == "text/html" and html is None:
            html = part.get_content()
        elif ctype.startswith("image/"):
            cid = (part.get("Content-ID") or "").strip().strip("<>")
            data = part.get_content()
            images.append({
                "type": ctype,
                "cid": cid,
                "bytes": len(data),
                "disposition": part.get_content_disposition(),
                "png": data[:8] == b"\x89PNG\r\n\x1a\n",
                "width": int.from_bytes(data[16:20], "big") if len(data) > 24 else 0,
                "height": int.from_bytes(data[20:24], "big") if len(data) > 24 else 0,
            })
            if len(sys.argv) > 2:
                os.makedirs(sys.argv[2], exist_ok=True)
                with open(os.path.join(sys.argv[2], cid.replace("@", "_") + ".png"), "wb") as f:
                    f.write(data)
    cids = re.findall(r'cid:([^"\'\s>]+)', html or "")
    known = {i["cid"] for i in images}
    if len(sys.argv) > 2 and html is not None:
        local = re.sub(r'cid:([^"\'\s>]+)', lambda m: m.group(1).replace("@", "_") + ".png", html)
        with open(os.path.join(sys.argv[2], "email.html"), "w", encoding="utf-8") as f:
            f.write(local)
    print(json.dumps({
        "size": len(raw),
        "headers": {k: str(msg.get(k)) for k in ["Message-ID", "Date", "From", "To", "Subject", "Reply-To", "MIME-Version", "List-Unsubscribe", "List-Unsubscribe-Post"] if msg.get(k) is not None},
        "tree": tree(msg),
        "text": text,
        "html": html,
        "html_bytes": len((html or "").encode("utf-8")),
        "images": images,
        "cids": cids,
        "unresolved_cids": [c for c in cids if c not in known],
        "defects": [str(d) for d in msg.defects],
    }))


if __name__ == "__main__":
    main()
