# Oracle for tarw.Python: reads a JSON list of headers on stdin (string
# fields base64-encoded, so that any bytes pass) and prints, one line per
# header, the hex of the bytes CPython's tarfile writes for it in PAX_FORMAT
# with the encoding tarfile.open uses for file names (utf-8,
# surrogateescape).
import base64, json, os, sys, tarfile

def s(v):
    return os.fsdecode(base64.b64decode(v))

for h in json.load(sys.stdin):
    ti = tarfile.TarInfo(s(h["name"]))
    ti.type = h["type"].encode()
    ti.mode = h["mode"]
    ti.uid, ti.gid = h["uid"], h["gid"]
    ti.uname, ti.gname = s(h["uname"]), s(h["gname"])
    ti.size, ti.mtime = h["size"], h["mtime"]
    ti.linkname = s(h["linkname"])
    ti.devmajor, ti.devminor = h["devmajor"], h["devminor"]
    print(ti.tobuf(tarfile.PAX_FORMAT, "utf-8", "surrogateescape").hex())
