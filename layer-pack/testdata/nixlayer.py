# Oracle for store layers: writes to stdout the layer tar that reference
# §5.3 describes (nixpkgs' stream_layered_image.py) for the given store
# paths, using CPython's tarfile.
# Usage: python3 nixlayer.py MTIME UID GID UNAME GNAME PATH... > layer.tar
import pathlib, sys, tarfile

mtime, uid, gid = (int(a) for a in sys.argv[1:4])
uname, gname = sys.argv[4], sys.argv[5]

def owned(info):
    info.mtime, info.uid, info.gid, info.uname, info.gname = mtime, uid, gid, uname, gname
    return info

with tarfile.open(fileobj=sys.stdout.buffer, mode="w|") as tar:
    for top in ("/nix", "/nix/store"):
        info = tarfile.TarInfo(top)
        info.type, info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(owned(info))
    for arg in sys.argv[6:]:
        root = pathlib.Path(arg)
        members = [root] if root.is_symlink() else sorted([root, *root.rglob("*")])
        for member in members:
            info = tar.gettarinfo(member)
            info.name = "/" + info.name
            if info.islnk():  # a second link to an inode: store the content again
                info.type, info.linkname, info.size = tarfile.REGTYPE, "", member.stat().st_size
            owned(info)
            if info.isfile():
                with open(member, "rb") as f:
                    tar.addfile(info, f)
            else:
                tar.addfile(info)
